import type { Versions } from "../core/versions.ts";
import type { Rendered } from "./output.ts";

const SOURCES = { path: "from PATH", embedded: "built in", configured: "kopia.binary", missing: "" } as const;

/** `version`: one line per component; the kopia line says which file runs and where it came from. */
export function renderVersions(v: Versions): Rendered {
  const kopia = v.kopia
    ? `${v.kopia} (${SOURCES[v.kopiaSource]}: ${v.kopiaPath})`
    : v.kopiaSource === "missing"
      ? "not found"
      : `unusable (${SOURCES[v.kopiaSource]}: ${v.kopiaPath})`;
  const inside = v.kopiaEmbedded ? `, kopia ${v.kopiaEmbedded} inside` : "";
  return [
    `kopi-docka ${v.kopiDocka} (${v.commit}, bun ${v.bun}${inside})`,
    `kopia      ${kopia}`,
    `docker     client ${v.dockerClient ?? "not found"}, engine ${v.dockerServer ?? "not reachable"}`,
    `compose    ${v.compose ? `${v.compose.command} ${v.compose.version}` : "not found"}`,
  ];
}

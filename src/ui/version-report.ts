import type { Versions } from "../core/versions.ts";
import type { Rendered } from "./output.ts";

/** `version`: one line per component. */
export function renderVersions(v: Versions): Rendered {
  return [
    `kopi-docka ${v.kopiDocka} (${v.commit}, bun ${v.bun})`,
    `kopia      ${v.kopia ?? "not found"}`,
    `docker     client ${v.dockerClient ?? "not found"}, engine ${v.dockerServer ?? "not reachable"}`,
    `compose    ${v.compose ? `${v.compose.command} ${v.compose.version}` : "not found"}`,
  ];
}

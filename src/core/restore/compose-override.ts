import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { isRecord } from "../guards.ts";
import type { Logger } from "../log.ts";
import type { ComposeFacts, Obj } from "./compose-facts.ts";
import type { CopyObject, CopyObjects } from "./copy.ts";
import type { LoadedRecipe } from "./recipe.ts";

/** Written next to a relocated unit's compose files and passed last with `-f`. */
export const OVERRIDE_FILE = "docker-compose.kopi-docka.yml";

/**
 * A compose override that mounts every bind of a relocated unit from where its data was restored.
 * Compose merges service volumes by their path in the container, so each entry replaces the compose
 * file's own (`./uploads`, `${DATA}`, an absolute path) whatever way it was written. A copy's also
 * gives each volume and network its compose files name themselves the copy's own name (copy.ts).
 */
export interface ComposeOverride {
  path: string;
  binds: { service: string; source: string; target: string; readOnly: boolean }[];
  /** A copy's own names for the volumes and networks its compose files name themselves. */
  renamed?: CopyObject[];
  content: string;
}

/**
 * The override of a relocated compose unit, or undefined when it changes nothing. `restoredAt` maps
 * a bind source to its path on this host (where the point restores it; a copy's own); other sources
 * stay as they were. `copy`: a copy's top-level volume and network entries.
 */
export function composeOverride(
  recipe: LoadedRecipe,
  dir: string,
  restoredAt: (source: string) => string | undefined,
  facts: ComposeFacts | undefined,
  warnings: string[],
  copy?: CopyObjects,
): ComposeOverride | undefined {
  const binds: ComposeOverride["binds"] = [];
  for (const c of recipe.unit.containers) {
    const inspect = recipe.inspects[c.name];
    if (!c.service || !inspect) continue;
    const mounts = Array.isArray(inspect.Mounts) ? inspect.Mounts.filter(isRecord) : [];
    for (const m of mounts) {
      if (m.Type !== "bind" || typeof m.Source !== "string" || typeof m.Destination !== "string") continue;
      const source = restoredAt(m.Source) ?? m.Source;
      const target = m.Destination;
      if (binds.some((b) => b.service === c.service && b.target === target)) continue;
      if (source.includes(":") || target.includes(":")) {
        warnings.push(`${c.service}: bind ${source}:${target} cannot be written for compose (a ':' in it)`);
        continue;
      }
      binds.push({ service: c.service, source, target, readOnly: m.RW === false });
    }
  }
  const top = { volumes: copy?.volumes ?? {}, networks: copy?.networks ?? {} };
  if (binds.length === 0 && !Object.keys(top.volumes).length && !Object.keys(top.networks).length)
    return undefined;
  return {
    path: join(dir, OVERRIDE_FILE),
    binds,
    ...(copy?.renamed.length ? { renamed: copy.renamed } : {}),
    content: overrideYaml(binds, top, facts?.version),
  };
}

/** JSON strings are YAML double-quoted scalars: names and paths need no escaping rules of our own. */
const q = (s: string) => JSON.stringify(s);

function overrideYaml(
  binds: ComposeOverride["binds"],
  top: { volumes: Record<string, Obj>; networks: Record<string, Obj> },
  version: string | undefined,
): string {
  const lines = [
    "# Written by kopi-docka restore: mounts each bind mount from where its data was restored.",
    ...(Object.keys(top.volumes).length || Object.keys(top.networks).length
      ? ["# The copy's own volumes and networks where the compose files name the original's."]
      : []),
    ...(version ? [`version: ${q(version)}`] : []),
  ];
  if (binds.length) lines.push("services:");
  for (const service of [...new Set(binds.map((b) => b.service))]) {
    lines.push(`  ${q(service)}:`, "    volumes:");
    // `$$` is compose's literal `$`: a path is never read as a variable.
    for (const b of binds.filter((x) => x.service === service))
      lines.push(
        `      - ${q(`${b.source}:${b.target}${b.readOnly ? ":ro" : ""}`.replaceAll("$", () => "$$"))}`,
      );
  }
  for (const section of ["volumes", "networks"] as const) {
    const entries = Object.entries(top[section]);
    if (entries.length) lines.push(`${section}:`);
    for (const [key, entry] of entries) lines.push(`  ${q(key)}: ${flow(entry)}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * A value from a compose file in YAML flow style: every string double-quoted, `": "` and `", "`
 * between items, as both compose v1 (PyYAML) and v2 read it. Strings are written as they were (a
 * variable in them stays one, as in the original's file).
 */
function flow(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(flow).join(", ")}]`;
  if (isRecord(v))
    return `{${Object.entries(v)
      .map(([k, x]) => `${q(k)}: ${flow(x)}`)
      .join(", ")}}`;
  if (typeof v === "string") return q(v);
  if (typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v))) return String(v);
  return "null";
}

/**
 * Writes the override through a temp file renamed into place: a symlink at the path is replaced,
 * never followed. An existing different override is kept as `<file>.bak-<stamp>`.
 */
export function writeOverride(o: ComposeOverride, stamp: string, log: Logger): string | undefined {
  const st = lstatSync(o.path, { throwIfNoEntry: false });
  const exists = st !== undefined;
  if (st?.isFile() && readFileSync(o.path, "utf8") === o.content) return undefined;
  const bak = exists ? `${o.path}.bak-${stamp}` : undefined;
  if (bak) renameSync(o.path, bak);
  mkdirSync(dirname(o.path), { recursive: true });
  const tmp = `${o.path}.tmp-${stamp}`;
  writeFileSync(tmp, o.content, { mode: 0o644, flag: "wx" });
  renameSync(tmp, o.path);
  log.info(`${o.path}: written (binds mounted from where they were restored)`);
  return bak;
}

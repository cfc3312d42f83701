import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { isRecord } from "../guards.ts";
import type { Logger } from "../log.ts";
import type { ComposeFacts, Obj } from "./compose-facts.ts";
import type { CopyObject, CopyObjects } from "./copy.ts";
import { VOLUME_LABEL } from "./names.ts";
import type { LoadedRecipe } from "./recipe.ts";

/** Written next to the unit's compose files and passed last with `-f`. */
export const OVERRIDE_FILE = "docker-compose.kopi-docka.yml";

/**
 * A compose override that mounts binds from where their data was restored (every bind of a
 * relocated unit) and each anonymous volume by the name of the volume its data was restored into:
 * `compose up` would give an anonymous one a new, empty volume. Compose merges service volumes by
 * their path in the container, so each entry replaces the compose file's own (`./uploads`,
 * `${DATA}`, `- /var/lib/db`, an image's `VOLUME`) whatever way it was written. A copy's also gives
 * each volume and network its compose files name themselves the copy's own name (copy.ts).
 */
export interface ComposeOverride {
  path: string;
  binds: { service: string; source: string; target: string; readOnly: boolean }[];
  /** Anonymous volumes mounted by name, each declared `external` (compose takes it as it is). */
  volumes?: { service: string; name: string; target: string; readOnly: boolean }[];
  /** A copy's own names for the volumes and networks its compose files name themselves. */
  renamed?: CopyObject[];
  content: string;
}

/** What the override pins, each from the recipe's record of a service's mount (its inspect). */
export interface OverridePins {
  /** Where a recorded bind is mounted from; undefined leaves the compose file's own entry. */
  bind: (source: string, service: string, target: string) => string | undefined;
  /** The volume holding a recorded anonymous volume's restored data; undefined when none does. */
  anonymous: (name: string) => string | undefined;
}

/**
 * The override of a compose unit, or undefined when it changes nothing. `copy`: a copy's top-level
 * volume and network entries.
 */
export function composeOverride(
  recipe: LoadedRecipe,
  dir: string,
  pins: OverridePins,
  facts: ComposeFacts | undefined,
  warnings: string[],
  copy?: CopyObjects,
): ComposeOverride | undefined {
  const binds: ComposeOverride["binds"] = [];
  const volumes: NonNullable<ComposeOverride["volumes"]> = [];
  const taken = (service: string, target: string) =>
    [...binds, ...volumes].some((b) => b.service === service && b.target === target);
  for (const c of recipe.unit.containers) {
    const inspect = recipe.inspects[c.name];
    if (!c.service || !inspect) continue;
    const mounts = Array.isArray(inspect.Mounts) ? inspect.Mounts.filter(isRecord) : [];
    for (const m of mounts) {
      const target = m.Destination;
      if (typeof target !== "string" || taken(c.service, target)) continue;
      const from = m.Type === "volume" ? m.Name : m.Source;
      if (typeof from !== "string") continue;
      const source =
        m.Type === "bind"
          ? pins.bind(from, c.service, target)
          : m.Type === "volume" && isAnonymous(from, recipe)
            ? pins.anonymous(from)
            : undefined;
      if (source === undefined) continue;
      if (source.includes(":") || target.includes(":")) {
        warnings.push(
          `${c.service}: ${m.Type} ${source}:${target} cannot be written for compose (a ':' in it)`,
        );
        continue;
      }
      const entry = { service: c.service, target, readOnly: m.RW === false };
      if (m.Type === "bind") binds.push({ ...entry, source });
      else volumes.push({ ...entry, name: source });
    }
  }
  const top = { volumes: { ...copy?.volumes }, networks: copy?.networks ?? {} };
  for (const v of volumes) top.volumes[v.name] = { external: true };
  if (binds.length === 0 && !Object.keys(top.volumes).length && !Object.keys(top.networks).length)
    return undefined;
  const mounts = [...binds, ...volumes.map((v) => ({ ...v, source: v.name }))];
  return {
    path: join(dir, OVERRIDE_FILE),
    binds,
    ...(volumes.length ? { volumes } : {}),
    ...(copy?.renamed.length ? { renamed: copy.renamed } : {}),
    content: overrideYaml(mounts, top, {
      version: facts?.version,
      copy: Boolean(copy && (Object.keys(copy.volumes).length || Object.keys(copy.networks).length)),
    }),
  };
}

/**
 * A volume docker named itself (64 hex digits: an anonymous one, a compose file's `- /path` or an
 * image's `VOLUME`) that no compose file names: compose would make a new one for its path.
 */
function isAnonymous(name: string, recipe: LoadedRecipe): boolean {
  const labels = recipe.unit.volumes.find((v) => v.name === name)?.labels ?? {};
  return /^[0-9a-f]{64}$/.test(name) && !labels[VOLUME_LABEL];
}

/** JSON strings are YAML double-quoted scalars: names and paths need no escaping rules of our own. */
const q = (s: string) => JSON.stringify(s);

function overrideYaml(
  mounts: (ComposeOverride["binds"][number] & { name?: string })[],
  top: { volumes: Record<string, Obj>; networks: Record<string, Obj> },
  o: { version: string | undefined; copy: boolean },
): string {
  const lines = [
    "# Written by kopi-docka restore: mounts each bind mount from where its data was restored.",
    ...(mounts.some((m) => m.name !== undefined)
      ? ["# Each anonymous volume is the volume its data was restored into (external: taken as it is)."]
      : []),
    ...(o.copy ? ["# The copy's own volumes and networks where the compose files name the original's."] : []),
    ...(o.version ? [`version: ${q(o.version)}`] : []),
  ];
  if (mounts.length) lines.push("services:");
  for (const service of [...new Set(mounts.map((b) => b.service))]) {
    lines.push(`  ${q(service)}:`, "    volumes:");
    // `$$` is compose's literal `$`: a path is never read as a variable.
    for (const b of mounts.filter((x) => x.service === service))
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
  log.info(`${o.path}: written (mounts pinned to the restored data)`);
  return bak;
}

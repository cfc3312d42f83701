import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { isRecord } from "../guards.ts";
import type { Logger } from "../log.ts";
import type { ComposeFacts } from "./compose-facts.ts";
import type { LoadedRecipe } from "./recipe.ts";

/** Written next to a relocated unit's compose files and passed last with `-f`. */
export const OVERRIDE_FILE = "docker-compose.kopi-docka.yml";

/**
 * A compose override that mounts every bind of a relocated unit from where its data was restored.
 * Compose merges service volumes by their path in the container, so each entry replaces the compose
 * file's own (`./uploads`, `${DATA}`, an absolute path) whatever way it was written.
 */
export interface ComposeOverride {
  path: string;
  binds: { service: string; source: string; target: string; readOnly: boolean }[];
  content: string;
}

/**
 * The override of a relocated compose unit, or undefined when it mounts no bind. `restoredAt` maps a
 * bind source the point restores to its path on this host; other sources stay as they were.
 */
export function composeOverride(
  recipe: LoadedRecipe,
  dir: string,
  restoredAt: (source: string) => string | undefined,
  facts: ComposeFacts | undefined,
  warnings: string[],
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
  if (binds.length === 0) return undefined;
  return { path: join(dir, OVERRIDE_FILE), binds, content: overrideYaml(binds, facts?.version) };
}

/** JSON strings are YAML double-quoted scalars: names and paths need no escaping rules of our own. */
function overrideYaml(binds: ComposeOverride["binds"], version: string | undefined): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = [
    "# Written by kopi-docka restore: mounts each bind mount from where its data was restored.",
    ...(version ? [`version: ${q(version)}`] : []),
    "services:",
  ];
  for (const service of [...new Set(binds.map((b) => b.service))]) {
    lines.push(`  ${q(service)}:`, "    volumes:");
    for (const b of binds.filter((x) => x.service === service))
      lines.push(`      - ${q(`${b.source}:${b.target}${b.readOnly ? ":ro" : ""}`)}`);
  }
  return `${lines.join("\n")}\n`;
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

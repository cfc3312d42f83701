import { isDeepStrictEqual } from "node:util";
import { parse } from "smol-toml";
import { parseConfigText } from "../../config/load.ts";
import { isRecord } from "../guards.ts";
import { setKey } from "../setup/render.ts";

/** `kopia.binary` values that name no file of the old host. */
const PORTABLE_BINARY = new Set(["auto", "path", "embedded"]);

interface Change {
  section: string;
  key: string;
  value: string;
  /** Why, for the person exporting. */
  note: string;
}

/** What in `config` would work on the old host only, and what the bundle says instead. */
function changesFor(config: Record<string, unknown>, host: string): Change[] {
  const repository = isRecord(config.repository) ? config.repository : {};
  const kopia = isRecord(config.kopia) ? config.kopia : {};
  const changes: Change[] = [];
  if (repository.backend === "server" && !repository.hostname)
    changes.push({
      section: "repository",
      key: "hostname",
      value: host,
      note: `repository.hostname: the bundle's config pins it to "${host}": the repository server knows this host's user kopi-docka@${host} only, and a new host may have another name`,
    });
  const binary = kopia.binary;
  if (typeof binary === "string" && !PORTABLE_BINARY.has(binary))
    changes.push({
      section: "kopia",
      key: "binary",
      value: "auto",
      note: `kopia.binary: the bundle's config says "auto" instead of ${binary}, a file a new host may not have ("auto": a kopia on PATH, else the one inside a full kopi-docka)`,
    });
  return changes;
}

/**
 * The config recover.sh puts back and `dr drill` runs with: the old host's text (comments and all),
 * with what only the old host has replaced key by key: on a repository server the host name its user
 * is named after, and a kopia binary named by path. Each change is a note for the export's output.
 * When a line cannot be set safely (a layout `setKey` does not know), the text stays as it was and the
 * note says what to set by hand. Pure.
 */
export function recoveryConfig(text: string, host: string): { text: string; notes: string[] } {
  const before = parse(text);
  const changes = changesFor(before, host);
  let changed = text;
  for (const c of changes) changed = setKey(changed, c.section, c.key, c.value, { add: true });
  if (!changes.length) return { text, notes: [] };
  if (!sameBut(before, changed, changes))
    return {
      text,
      notes: changes.map(
        (c) => `${c.section}.${c.key}: set it to "${c.value}" in the config, then export again (${c.note})`,
      ),
    };
  return { text: changed, notes: changes.map((c) => c.note) };
}

/** Does `text` hold a valid config equal to `before` with `changes` applied, and nothing else changed? */
function sameBut(before: Record<string, unknown>, text: string, changes: Change[]): boolean {
  let after: Record<string, unknown>;
  try {
    parseConfigText(text, "the bundle's config.toml");
    after = parse(text);
  } catch {
    return false;
  }
  const expected: Record<string, unknown> = structuredClone(before);
  for (const c of changes) {
    const section = expected[c.section];
    expected[c.section] = { ...(isRecord(section) ? section : {}), [c.key]: c.value };
  }
  // Through JSON: TOML dates compare as their text, tables as plain objects.
  return isDeepStrictEqual(JSON.parse(JSON.stringify(after)), JSON.parse(JSON.stringify(expected)));
}

import { isDeepStrictEqual } from "node:util";
import { isRecord } from "../guards.ts";

/**
 * A side-by-side copy's compose project files name the COPY's project, so that a compose command run
 * in the copy's directory without `-p` (`docker-compose down -v`) acts on the copy, never on the
 * original. Compose takes the name from `-p`, else `COMPOSE_PROJECT_NAME` (the `.env` file counts;
 * compose v1 and v2), else a top-level `name:` (v2 only; v1 refuses the key), else the project
 * directory's base name. Pure: text in, text out; everything but the name's value kept byte for byte.
 * Texts are read as latin1, so any byte round-trips.
 */

/** How one restored file is edited: the same edit is made when the plan is made and when written. */
export interface ProjectNameEdit {
  kind: "env" | "compose";
  /** The copy's project name (`--as`: lower-case letters, digits, `-`, `_`). */
  name: string;
  /** `.env` only: no `COMPOSE_PROJECT_NAME` line is there; one is added at the end. */
  append?: true;
}

const ENV_LINE = /^([ \t]*(?:export[ \t]+)?COMPOSE_PROJECT_NAME[ \t]*[=:][ \t]*)(.*?)(\r?)$/;

/**
 * Every `COMPOSE_PROJECT_NAME` line (`KEY=v`, `export KEY=v`, quoted, `KEY: v`) given the copy's
 * name. `unsafe`: a quoted value that goes on past its line, which cannot be replaced line by line.
 */
export function setEnvProjectName(
  text: string,
  name: string,
  append = false,
): { text: string; found: boolean; unsafe: boolean } {
  let found = false;
  let unsafe = false;
  const lines = text.split("\n").map((line) => {
    const m = ENV_LINE.exec(line);
    if (!m) return line;
    const value = m[2] ?? "";
    const q = value[0];
    if ((q === '"' || q === "'") && !value.slice(1).includes(q)) {
      unsafe = true;
      return line;
    }
    found = true;
    return `${m[1]}${name}${m[3]}`;
  });
  let out = lines.join("\n");
  if (append && !found && !unsafe)
    out += `${out === "" || out.endsWith("\n") ? "" : "\n"}COMPOSE_PROJECT_NAME=${name}\n`;
  return { text: out, found, unsafe };
}

const NAME_LINE = /^((?:name|"name"|'name')[ \t]*:[ \t]*)(.*?)(\r?)$/;
const NAME_VALUE = /^(?:[a-z0-9][a-z0-9_.-]*|"[a-z0-9][a-z0-9_.-]*"|'[a-z0-9][a-z0-9_.-]*')([ \t]+#.*)?$/;

/**
 * A compose file's top-level `name:` (a key at column 0) given the copy's name. `found`: the file names
 * its project and now names the copy; `unsafe`: it names one in a form not rewritten here (a variable,
 * a block or flow value), so compose would still take that name. Checked by parsing both texts: only
 * `name` may differ, and it must be the copy's. A file that does not parse is left alone (compose
 * refuses it too).
 */
export function setComposeName(
  text: string,
  name: string,
): { text: string; found: boolean; unsafe: boolean } {
  const before = parse(text);
  if (!before.ok) return { text, found: false, unsafe: false };
  const named = isRecord(before.doc) && "name" in before.doc;
  let changed = false;
  let bad = false;
  const lines = text.split("\n").map((line) => {
    const m = NAME_LINE.exec(line);
    if (!m) return line;
    const value = m[2] ?? "";
    const v = NAME_VALUE.exec(value);
    if (!v) {
      bad = true;
      return line;
    }
    changed = true;
    const quote = value.startsWith('"') || value.startsWith("'") ? value[0] : plainSafe(name) ? "" : '"';
    return `${m[1]}${quote}${name}${quote}${v[1] ?? ""}${m[3]}`;
  });
  if (!named) return { text, found: false, unsafe: false };
  const out = lines.join("\n");
  const after = parse(out);
  const same =
    !bad &&
    changed &&
    after.ok &&
    isRecord(after.doc) &&
    isRecord(before.doc) &&
    after.doc.name === name &&
    isDeepStrictEqual({ ...after.doc, name: undefined }, { ...before.doc, name: undefined });
  return same ? { text: out, found: true, unsafe: false } : { text, found: false, unsafe: true };
}

/** The project name compose gives a directory (v1's rule; v2 also trims a leading `-` or `_`). */
export function dirProjectName(base: string): string {
  return base.toLowerCase().replace(/[^-_a-z0-9]/g, "");
}

/** A name YAML reads as a string when written plain (not a number, boolean or null). */
function plainSafe(name: string): boolean {
  return /^[a-z][a-z0-9_-]*$/.test(name) && !/^(?:y|n|yes|no|on|off|true|false|null)$/.test(name);
}

function parse(text: string): { ok: true; doc: unknown } | { ok: false } {
  try {
    return { ok: true, doc: Bun.YAML.parse(Buffer.from(text, "latin1").toString("utf8")) };
  } catch {
    return { ok: false };
  }
}

/** Applies an edit to a file's bytes (the writer's side of `ProjectNameEdit`). */
export function applyProjectName(data: Uint8Array, edit: ProjectNameEdit): Uint8Array {
  const text = Buffer.from(data).toString("latin1");
  const out =
    edit.kind === "env"
      ? setEnvProjectName(text, edit.name, edit.append === true).text
      : setComposeName(text, edit.name).text;
  return Buffer.from(out, "latin1");
}

import { z } from "zod";
import { isDumpPreset } from "../dump/presets.ts";
import { nameProblem } from "../names-rules.ts";
import { cleanPathProblem } from "../safe-paths.ts";
import { BACKUP_FORMAT } from "./tags.ts";

/**
 * Everything read back from a snapshot is untrusted: anyone with the repository password can write
 * tags and a recipe, also under another host's name. These checks run before a value becomes a
 * path, a name or an argv element. Data is trusted as data, never as a place to write.
 */

/** Run and backup ids: letters, digits and `_ . : + -`, no path separators. */
const ID = /^[A-Za-z0-9][A-Za-z0-9_.:+-]*$/;
/** A dump's file inside its snapshot: one plain name. */
const DUMP_FILE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Why a snapshot's tags are unsafe to act on, or undefined when they are fine. */
export function tagsProblem(t: Record<string, string>): string | undefined {
  if (!t.unit) return undefined;
  const unit = nameProblem("unit", t.unit);
  if (unit) return unit;
  if (t.backup_id && !ID.test(t.backup_id)) return `invalid backup_id ${JSON.stringify(t.backup_id)}`;
  if (t.run_id && !ID.test(t.run_id)) return `invalid run_id ${JSON.stringify(t.run_id)}`;
  // "tar" (Kopi-Docka before 5.0: a tar stream in one file) restored as a directory would replace the
  // volume's files with that one file.
  if (t.backup_format !== undefined && t.backup_format !== BACKUP_FORMAT)
    return `backup_format ${JSON.stringify(t.backup_format)} is not one kopi-docka restores (only "${BACKUP_FORMAT}"): restore it with \`kopi-docka kopia -- snapshot restore\` by hand`;
  if (t.type === "volume") return nameProblem("volume", t.volume ?? "");
  if (t.type === "dump") {
    if (!DUMP_FILE.test(t.dump_file ?? "")) return `invalid dump_file ${JSON.stringify(t.dump_file)}`;
    if (t.dump_preset !== undefined && !isDumpPreset(t.dump_preset))
      return `unknown dump_preset ${JSON.stringify(t.dump_preset)}`;
    return nameProblem("container", t.dump_container ?? "");
  }
  if (t.type === "bind") {
    const p = cleanPathProblem(t.bind_source ?? "");
    return p ? `bind_source ${p}` : undefined;
  }
  return undefined;
}

const issue = (ctx: z.RefinementCtx, message: string) => ctx.addIssue({ code: "custom", message });

/** A docker name of `kind` (container, volume, network, unit). */
export const dockerName = (kind: "container" | "volume" | "network" | "unit") =>
  z.string().superRefine((s, ctx) => {
    const p = nameProblem(kind, s);
    if (p) issue(ctx, p);
  });

/** An absolute, normalised host path without `..` or control characters. */
export const cleanPath = z.string().superRefine((s, ctx) => {
  const p = cleanPathProblem(s);
  if (p) issue(ctx, p);
});

/** Where a compose file is kept inside a recipe: `compose/NN-<name>`, nothing else. */
export const STORED_COMPOSE = /^compose\/\d\d-(?!\.\.?$)[A-Za-z0-9_.-]+$/;
/** Where a project file is kept inside a recipe: `project/<name>`, flat. */
export const STORED_PROJECT = /^project\/(?!\.\.?$)[A-Za-z0-9_.-]+$/;

export const storedCompose = z.string().regex(STORED_COMPOSE, "stored must be compose/NN-<name>");

/** A compose file path as its label gave it: relative or absolute, never climbing with `..`. */
export const labelPath = z.string().superRefine((s, ctx) => {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(s) || s.split("/").includes(".."))
    issue(ctx, `compose file path ${JSON.stringify(s)} contains .. or control characters`);
});

import { posix } from "node:path";
import { z } from "zod";

/** Shared field shapes of the config schema (`schema.ts`, `schema-repository.ts`). */

export const seconds = (def: number, max: number) => z.number().int().min(1).max(max).default(def);
/** C0 controls and DEL: never part of a path anyone means (a newline would split a unit file line). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
export const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * An absolute host path, normalised (`//a/./b/` → `/a/b`). `..` is refused rather than resolved: it
 * says the writer meant something other than what they wrote. `/` itself is never a sensible value
 * for any key (a lock file, a repository, a hook, a skipped tree).
 */
export const absolutePath = z
  .string()
  .refine((p) => !CONTROL_CHARS.test(p), "must not hold control characters (newline, tab, NUL, …)")
  .refine((p) => p.startsWith("/"), "must be an absolute path")
  .refine((p) => !p.split("/").includes(".."), "must not contain `..`")
  .transform((p) => posix.normalize(p).replace(/(.)\/+$/, "$1"))
  .refine((p) => p !== "/", "must not be / (the host root)");
export const keep = (def: number, max: number) => z.number().int().min(0).max(max).default(def);

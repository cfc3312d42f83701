import { z } from "zod";
import { STORED_COMPOSE, STORED_PROJECT } from "./validate.ts";

/**
 * What a recipe keeps of a compose or project file besides its content, so a restore writes it back
 * as the admin left it (a config a non-root container reads stays readable to it). The snapshot is
 * untrusted: only permission bits (never set-id or sticky), ids a chown takes, a plain time.
 */
export interface FileAttributes {
  /** Path inside the recipe (`compose/NN-<name>`, `project/<name>`). */
  stored: string;
  /** Permission bits only: `mode & 0o777`. */
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
}

/** The permission bits a recorded mode may carry: no set-uid, set-gid or sticky bit. */
export const PERMISSION_BITS = 0o777;
/** The largest id chown(2) takes as an id (2^32-1 means "leave it"). */
const MAX_ID = 2 ** 32 - 2;
/** 9999-12-31: past that a recorded mtime is nonsense. */
const MAX_MTIME_MS = 253_402_300_799_000;

const id = z.number().int().min(0).max(MAX_ID);
const entry = z.object({
  stored: z
    .string()
    .refine((s) => STORED_COMPOSE.test(s) || STORED_PROJECT.test(s), "not a recipe file path"),
  mode: z.number().int().min(0).max(PERMISSION_BITS),
  uid: id,
  gid: id,
  mtimeMs: z.number().min(0).max(MAX_MTIME_MS),
});

/**
 * unit.json's `fileAttributes`, as read back. An entry that fails these checks (or anything that is
 * not a list) is ignored, never applied: its file is written as a recipe without them writes it.
 * Only an entry's first occurrence counts.
 */
export const fileAttributes = z
  .unknown()
  .optional()
  .transform((raw): FileAttributes[] => {
    const seen = new Set<string>();
    return (Array.isArray(raw) ? raw : []).flatMap((e) => {
      const p = entry.safeParse(e);
      if (!p.success || seen.has(p.data.stored)) return [];
      seen.add(p.data.stored);
      return [p.data];
    });
  });

/** What a file of the host is recorded as in a recipe stored at `stored`. */
export function attributesOf(
  stored: string,
  st: { mode: number; uid: number; gid: number; mtimeMs: number },
): FileAttributes {
  return { stored, mode: st.mode & PERMISSION_BITS, uid: st.uid, gid: st.gid, mtimeMs: st.mtimeMs };
}

import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

/** One entry of a directory tree as a comparable record: content hash, mode, owner, mtime, link target. */
export interface TreeEntry {
  type: "file" | "dir" | "symlink" | "other";
  mode: number;
  uid: number;
  gid: number;
  mtimeMs?: number;
  sha256?: string;
  target?: string;
}

/**
 * Walks `root` and describes every entry (root itself as "."). Directory mtimes are left out when
 * `dirMtimes` is false, since merely listing or restoring into a directory can touch them.
 */
export function describeTree(root: string, opts: { dirMtimes?: boolean } = {}): Record<string, TreeEntry> {
  const out: Record<string, TreeEntry> = {};
  const walk = (rel: string) => {
    const abs = join(root, rel);
    const st = lstatSync(abs);
    const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    if (st.isSymbolicLink()) out[rel] = { type: "symlink", ...base, target: readlinkSync(abs) };
    else if (st.isFile()) {
      const sha256 = new Bun.CryptoHasher("sha256").update(readFileSync(abs)).digest("hex");
      out[rel] = { type: "file", ...base, mtimeMs: Math.floor(st.mtimeMs), sha256 };
    } else if (st.isDirectory()) {
      out[rel] = { type: "dir", ...base, ...(opts.dirMtimes ? { mtimeMs: Math.floor(st.mtimeMs) } : {}) };
      for (const name of readdirSync(abs).sort()) walk(rel === "." ? name : join(rel, name));
    } else out[rel] = { type: "other", ...base };
  };
  walk(".");
  return out;
}

import { existsSync, fchmodSync, linkSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { fsyncDir, nodeFs, type SyncFs } from "../durable.ts";
import { AppError } from "../errors.ts";

/** The binary that was replaced, kept beside it for `upgrade --rollback`. */
export const previousPath = (target: string) => `${target}.previous`;

/** Where the new binary is staged beside `target` (same filesystem). */
export const stagedPath = (target: string) => `${target}.new-${process.pid}`;

/** The fs calls a swap makes: `durable.ts`'s seam, plus writing bytes (a binary is not text). */
export interface SwapFs extends SyncFs {
  writeBytes: (fd: number, bytes: Uint8Array) => void;
}

export const swapFs: SwapFs = {
  ...nodeFs,
  writeBytes: (fd, bytes) => {
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
  },
};

/**
 * Writes the new binary at `stagedPath` (0755) and fsyncs it, ready to be renamed over `target`: a
 * rename of data still in the page cache can leave a zero-length file after a power cut (XFS, ext4
 * with `noauto_da_alloc`), and then neither the backup nor the freshness service can start. Created
 * exclusively: a file or symlink someone left at that name is refused, never written through.
 */
export function stageBinary(target: string, bytes: Uint8Array, fs: SwapFs = swapFs): string {
  const tmp = stagedPath(target);
  const fd = fs.openSync(tmp, "wx", 0o755);
  try {
    fs.writeBytes(fd, bytes);
    fchmodSync(fd, 0o755); // whatever the umask
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return tmp;
}

/**
 * Renames the staged file over `target`, so the path always holds a whole binary and a running
 * process keeps its old inode. The replaced file is kept as `<target>.previous` (hard link first).
 * The directory is fsync'd last: the renames themselves survive a crash.
 */
export function commitBinary(staged: string, target: string, fs: SwapFs = swapFs): void {
  keepPrevious(target, fs);
  fs.renameSync(staged, target);
  fsyncDir(dirname(target), fs);
}

function keepPrevious(target: string, fs: SwapFs): void {
  if (!existsSync(target)) return;
  const tmp = `${previousPath(target)}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  linkSync(target, tmp);
  fs.renameSync(tmp, previousPath(target));
}

/**
 * Swaps `<target>.previous` back in; the binary it replaces becomes the new `.previous`, so a second
 * rollback undoes the first.
 */
export function rollbackBinary(target: string, fs: SwapFs = swapFs): void {
  const previous = previousPath(target);
  if (!existsSync(previous)) {
    throw new AppError("not_found", `no previous binary at ${previous}`, {
      hint: "`upgrade --rollback` needs an earlier `kopi-docka upgrade` to have kept one",
    });
  }
  const tmp = `${previous}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  linkSync(target, tmp);
  fs.renameSync(previous, target);
  fs.renameSync(tmp, previous);
  fsyncDir(dirname(target), fs);
}

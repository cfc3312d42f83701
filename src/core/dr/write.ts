import { closeSync, existsSync, fsyncSync, linkSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { errnoCode } from "../caught.ts";
import { fsyncDir } from "../durable.ts";
import { UsageError } from "../errors.ts";

/**
 * Writes bytes to `file` atomically and durably with `mode` from the first byte (a bundle is never
 * briefly world-readable): a private temp name, fsync, then a hard link to the name (never replacing
 * a file that appeared there meanwhile: EEXIST), fsync the directory.
 */
export function writeBytesAtomic(file: string, data: Uint8Array, mode: number): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, "wx", mode);
  try {
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    placeExclusively(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
  fsyncDir(dirname(file));
}

/**
 * `tmp` at `file`, never over a file that appeared there: a hard link (EEXIST when taken). A filesystem
 * without hard links (vfat or exFAT on a USB stick, many CIFS and FUSE mounts) gets a rename after a
 * last look instead.
 */
function placeExclusively(tmp: string, file: string): void {
  try {
    linkSync(tmp, file);
    return;
  } catch (e) {
    const code = errnoCode(e);
    if (code === "EEXIST")
      throw new UsageError(`${file} exists`, "choose another --output; an old bundle is never overwritten");
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw e;
  }
  if (existsSync(file))
    throw new UsageError(`${file} exists`, "choose another --output; an old bundle is never overwritten");
  renameSync(tmp, file);
}

import { closeSync, fsyncSync, linkSync, openSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { fsyncDir } from "../durable.ts";

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
    linkSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
  fsyncDir(dirname(file));
}

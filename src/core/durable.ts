import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Writes that survive a power cut: data fsync'd before it is renamed into place, and the directory
 * fsync'd after, so the name points at complete content (or the old file) after a crash. The fs
 * calls are a parameter so tests can check their order.
 */
export interface SyncFs {
  openSync: (path: string, flags: string, mode?: number) => number;
  writeSync: (fd: number, text: string) => number;
  fsyncSync: (fd: number) => void;
  closeSync: (fd: number) => void;
  renameSync: (from: string, to: string) => void;
}

export const nodeFs: SyncFs = { openSync, writeSync, fsyncSync, closeSync, renameSync };

/** Makes a directory's entries (a new or renamed name in it) durable. */
export function fsyncDir(dir: string, fs: SyncFs = nodeFs): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes `text` to an open file and fsyncs it, then closes it. */
export function writeAndSync(fd: number, text: string, fs: SyncFs = nodeFs): void {
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Replaces `file` with `text` atomically and durably: temp file, fsync, rename, fsync the directory. */
export function writeFileAtomic(file: string, text: string, mode: number, fs: SyncFs = nodeFs): void {
  const tmp = `${file}.tmp`;
  writeAndSync(fs.openSync(tmp, "w", mode), text, fs);
  fs.renameSync(tmp, file);
  fsyncDir(dirname(file), fs);
}

import { linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";
import { errnoCode, errorMessage } from "../caught.ts";
import { writeAndSync } from "../durable.ts";
import { AppError } from "../errors.ts";
import { isHeld, type LockInfo, parseInfo } from "./owner.ts";

/**
 * The lock file's atomic operations. A file is created by link()ing a complete temp file into place
 * (fails if the name exists), so its content is never seen half-written. A stale file is replaced
 * under a per-file "takeover" guard (itself created the same way) after re-reading it, and ownership
 * is confirmed by reading the file back, so two runs racing for one stale lock never both win.
 */
export interface Seen {
  ino: number;
  raw: string;
  info: LockInfo | undefined;
}

/** How deep stale takeover guards are themselves taken over (each level needs a crash mid-takeover). */
const MAX_GUARD_DEPTH = 3;

export function readLock(path: string): Seen | undefined {
  try {
    const ino = statSync(path).ino;
    const raw = readFileSync(path, "utf8");
    // A rename between stat and read would pair one file's inode with another's text; check again.
    if (statSync(path).ino !== ino) return undefined;
    return { ino, raw, info: parseInfo(raw) };
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return undefined;
    throw lockIoError(path, e);
  }
}

/** Links a complete temp file to `path`; false if `path` exists. */
export function createExclusive(path: string, info: LockInfo): boolean {
  const tmp = writeTemp(path, info);
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if (errnoCode(e) === "EEXIST") return false;
    throw lockIoError(path, e);
  } finally {
    unlinkQuiet(tmp);
  }
}

/**
 * Replaces `path` with a file holding `info`, but only if `path` is still the stale file `seen`.
 * The check and the rename happen while holding `<path>.takeover-<inode>`, so racers serialize; a
 * guard left by a process that died mid-takeover is itself replaced the same way (bounded depth).
 */
export function replaceIfUnchanged(path: string, seen: Seen, info: LockInfo, depth = 0): boolean {
  const guard = `${path}.takeover-${seen.ino}`;
  if (!acquireGuard(guard, info, depth)) return false;
  try {
    const now = readLock(path);
    if (!now || now.ino !== seen.ino || now.raw !== seen.raw) return false;
    if (now.info && isHeld(now.info)) return false;
    const tmp = writeTemp(path, info);
    try {
      renameSync(tmp, path);
    } catch (e) {
      unlinkQuiet(tmp);
      throw lockIoError(path, e);
    }
    return true;
  } finally {
    removeIfOurs(guard, info);
  }
}

function acquireGuard(guard: string, info: LockInfo, depth: number): boolean {
  for (let i = 0; i < 200; i++) {
    if (createExclusive(guard, info)) return true;
    const g = readLock(guard);
    if (!g) continue;
    if (g.info && isHeld(g.info)) {
      Bun.sleepSync(5); // its holder is inside a few-syscall critical section
      continue;
    }
    if (depth >= MAX_GUARD_DEPTH) {
      throw new AppError("locked", `stale lock takeover files next to ${guard}`, {
        hint: `no kopi-docka runs? then remove ${dirname(guard)}/*.takeover-*`,
      });
    }
    if (replaceIfUnchanged(guard, g, info, depth + 1) && confirmOwnership(guard, info)) return true;
  }
  return false;
}

export function confirmOwnership(path: string, info: LockInfo): boolean {
  const now = readLock(path);
  return now?.info?.runId === info.runId && now.info.pid === info.pid;
}

export function removeIfOurs(path: string, info: LockInfo): void {
  if (confirmOwnership(path, info)) unlinkQuiet(path);
}

function writeTemp(path: string, info: LockInfo): string {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`;
  try {
    writeAndSync(openSync(tmp, "wx", 0o644), `${JSON.stringify(info)}\n`);
  } catch (e) {
    unlinkQuiet(tmp);
    throw lockIoError(path, e);
  }
  return tmp;
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

export function lockIoError(path: string, e: unknown): AppError {
  return new AppError("locked", `cannot use the lock file ${path}: ${errorMessage(e)}`, {
    hint: "check that its directory is writable (run as root)",
    cause: e,
  });
}

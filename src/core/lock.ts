import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { hostname as osHostname } from "node:os";
import { dirname } from "node:path";
import { AppError, InterruptedError } from "./errors.ts";
import type { Logger } from "./log.ts";

/**
 * The host-wide lock: one file, created atomically (a complete temp file is link()ed into place, which
 * fails if the name exists), holding who owns it. The owner is identified by pid AND the process start
 * time from /proc, so a reused pid never keeps a dead run's lock alive. A stale lock is replaced under a
 * per-lock "takeover" guard (itself created atomically) after re-reading it, and ownership is confirmed
 * by reading the file back, so two runs racing for one stale lock never both believe they hold it.
 */
export interface LockInfo {
  pid: number;
  runId: string;
  command: string;
  startedAt: string;
  hostname: string;
  /** /proc/<pid>/stat field 22 (clock ticks after boot); with `bootId`, defeats pid reuse. */
  processStartTime: number | null;
  bootId?: string;
}

export interface LockOptions {
  runId: string;
  command: string;
  /** Poll until the lock is free instead of failing with "locked". */
  wait?: boolean;
  /** Aborts the wait. */
  signal?: AbortSignal;
  log?: Logger;
  /** Poll interval while waiting; tests shorten it. */
  pollMs?: number;
}

export interface LockHandle {
  /** Removes the lock if it is still ours. Idempotent; also runs on process exit. */
  release(): void;
}

const DEFAULT_POLL_MS = 1000;
/** How deep stale takeover guards are themselves taken over (each level needs a crash mid-takeover). */
const MAX_GUARD_DEPTH = 3;

/** The start time (field 22 of /proc/<pid>/stat) of a running process; undefined when it is gone. */
export function processStartTime(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields after it follow the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return undefined; // a zombie has finished its work
  const start = Number(fields[19]);
  return Number.isFinite(start) ? start : undefined;
}

/** True while `pid` runs and, when `startTime` is known, is still the same process. */
export function isProcessAlive(pid: number, startTime?: number | null): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const now = processStartTime(pid);
  if (now === undefined) return false;
  return startTime === undefined || startTime === null || now === startTime;
}

export function currentBootId(): string | undefined {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return undefined;
  }
}

/** Takes the lock, or throws AppError("locked") naming its holder; with `wait`, polls until free. */
export async function acquireLock(file: string, options: LockOptions): Promise<LockHandle> {
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  const mine: LockInfo = {
    pid: process.pid,
    runId: options.runId,
    command: options.command,
    startedAt: new Date().toISOString(),
    hostname: osHostname(),
    processStartTime: processStartTime(process.pid) ?? null,
    bootId: currentBootId(),
  };
  let announced = false;
  for (;;) {
    if (options.signal?.aborted) throw abortError(options.signal);
    const holder = tryAcquire(file, mine);
    if (!holder) return handleFor(file, mine);
    if (!options.wait) throw lockedError(file, holder);
    if (!announced) {
      announced = true;
      options.log?.info(`waiting for the lock: ${describeHolder(holder)}`);
    }
    await sleep(options.pollMs ?? DEFAULT_POLL_MS, options.signal);
  }
}

/** One attempt. Returns undefined when we now hold the lock, else the live holder. */
function tryAcquire(file: string, mine: LockInfo): LockInfo | undefined {
  for (let attempt = 0; ; attempt++) {
    if (createExclusive(file, mine)) {
      if (confirmOwnership(file, mine)) return undefined;
      continue;
    }
    const seen = readLock(file);
    if (!seen) continue; // released between our link() and our read: try again
    if (seen.info && isHeld(seen.info)) return seen.info;
    // Stale (dead owner) or unreadable: replace it, under a guard, if it is still that same file.
    if (replaceIfUnchanged(file, seen, mine, 0) && confirmOwnership(file, mine)) return undefined;
    if (attempt > 50) throw new AppError("locked", `could not take over the stale lock ${file}`);
  }
}

function isHeld(info: LockInfo): boolean {
  if (info.hostname !== osHostname()) return true; // another host's process cannot be checked
  const boot = currentBootId();
  if (info.bootId && boot && info.bootId !== boot) return false;
  return isProcessAlive(info.pid, info.processStartTime);
}

interface Seen {
  ino: number;
  raw: string;
  info: LockInfo | undefined;
}

function readLock(path: string): Seen | undefined {
  try {
    const ino = statSync(path).ino;
    const raw = readFileSync(path, "utf8");
    // A rename between stat and read would pair one file's inode with another's text; check again.
    if (statSync(path).ino !== ino) return undefined;
    return { ino, raw, info: parseInfo(raw) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw lockIoError(path, e);
  }
}

function parseInfo(raw: string): LockInfo | undefined {
  try {
    const v = JSON.parse(raw) as Partial<LockInfo>;
    if (typeof v.pid !== "number" || typeof v.runId !== "string") return undefined;
    return {
      pid: v.pid,
      runId: v.runId,
      command: String(v.command ?? "?"),
      startedAt: String(v.startedAt ?? "?"),
      hostname: String(v.hostname ?? osHostname()),
      processStartTime: typeof v.processStartTime === "number" ? v.processStartTime : null,
      bootId: typeof v.bootId === "string" ? v.bootId : undefined,
    };
  } catch {
    return undefined;
  }
}

/** Links a complete temp file to `path`; false if `path` exists. The content is never seen half-written. */
function createExclusive(path: string, info: LockInfo): boolean {
  const tmp = writeTemp(path, info);
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
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
function replaceIfUnchanged(path: string, seen: Seen, info: LockInfo, depth: number): boolean {
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

function confirmOwnership(path: string, info: LockInfo): boolean {
  const now = readLock(path);
  return now?.info?.runId === info.runId && now.info.pid === info.pid;
}

function removeIfOurs(path: string, info: LockInfo): void {
  if (confirmOwnership(path, info)) unlinkQuiet(path);
}

function handleFor(file: string, mine: LockInfo): LockHandle {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off("exit", release);
    try {
      removeIfOurs(file, mine);
    } catch {
      // best effort: a lock we cannot read is not ours to delete
    }
  };
  process.on("exit", release);
  return { release };
}

function writeTemp(path: string, info: LockInfo): string {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "wx", 0o644);
    writeSync(fd, `${JSON.stringify(info)}\n`);
    fsyncSync(fd);
  } catch (e) {
    unlinkQuiet(tmp);
    throw lockIoError(path, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
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

function describeHolder(h: LockInfo): string {
  const host = h.hostname === osHostname() ? "" : ` on host ${h.hostname}`;
  return `pid ${h.pid}${host} (\`kopi-docka ${h.command}\`, started ${h.startedAt})`;
}

function lockedError(file: string, h: LockInfo): AppError {
  return new AppError("locked", `another kopi-docka run holds the lock ${file}: ${describeHolder(h)}`, {
    hint: "wait for it, or pass --wait",
  });
}

function lockIoError(path: string, e: unknown): AppError {
  return new AppError("locked", `cannot use the lock file ${path}: ${(e as Error).message}`, {
    hint: "check that its directory is writable (run as root)",
    cause: e,
  });
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new InterruptedError("SIGINT");
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

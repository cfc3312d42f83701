import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { AppError, InterruptedError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { confirmOwnership, createExclusive, readLock, removeIfOurs, replaceIfUnchanged } from "./file.ts";
import { describeHolder, holderUncheckable, isHeld, type LockInfo, ownerInfo } from "./owner.ts";

export { currentBootId, isProcessAlive, type LockInfo, processStartTime } from "./owner.ts";

/**
 * The host-wide lock: one file holding who owns it (owner.ts), created and taken over atomically
 * (file.ts). A live holder makes `acquireLock` fail with "locked", or wait; a dead one's lock is
 * taken over, so a crashed run never blocks the next, and two runs never stop containers at once.
 */
export interface LockOptions {
  runId: string;
  command: string;
  /**
   * Poll until the lock is free instead of failing with "locked". Left out (not false) for a command
   * that has no `--wait`: the "locked" hint then does not offer one it would reject.
   */
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
  /**
   * The dead run whose stale lock this one took over. Its children may still run: after a SIGKILL
   * they outlive it in their own process groups (a kopia waiting at its gate, a restore writing), so
   * recovery ends them (`containers/recover.ts`).
   */
  tookOverFrom?: LockInfo;
}

const DEFAULT_POLL_MS = 1000;

/** Takes the lock, or throws AppError("locked") naming its holder; with `wait`, polls until free. */
export async function acquireLock(file: string, options: LockOptions): Promise<LockHandle> {
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  const mine = ownerInfo(options.runId, options.command);
  let announced = false;
  for (;;) {
    if (options.signal?.aborted) throw abortError(options.signal);
    const { holder, stale } = tryAcquire(file, mine);
    if (!holder) return handleFor(file, mine, stale);
    if (!options.wait) throw lockedError(file, holder, options.wait !== undefined);
    if (!announced) {
      announced = true;
      options.log?.info(`waiting for the lock: ${describeHolder(holder)}`);
    }
    await sleep(options.pollMs ?? DEFAULT_POLL_MS, options.signal);
  }
}

/** One attempt: the live holder, or none when we now hold the lock (`stale`: the dead one replaced). */
function tryAcquire(file: string, mine: LockInfo): { holder?: LockInfo; stale?: LockInfo } {
  for (let attempt = 0; ; attempt++) {
    if (createExclusive(file, mine)) {
      if (confirmOwnership(file, mine)) return {};
      continue;
    }
    const seen = readLock(file);
    if (!seen) continue; // released between our link() and our read: try again
    if (seen.info && isHeld(seen.info)) return { holder: seen.info };
    // Stale (dead owner) or unreadable: replace it, under a guard, if it is still that same file.
    if (replaceIfUnchanged(file, seen, mine) && confirmOwnership(file, mine))
      return seen.info ? { stale: seen.info } : {};
    if (attempt > 50) throw new AppError("locked", `could not take over the stale lock ${file}`);
  }
}

function handleFor(file: string, mine: LockInfo, stale: LockInfo | undefined): LockHandle {
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
  return stale ? { release, tookOverFrom: stale } : { release };
}

/** The lock is another run's: that run reports for itself. Any other `locked` (the lock file unusable) is news. */
export class LockHeldError extends AppError {}

function lockedError(file: string, h: LockInfo, takesWait: boolean): AppError {
  const uncheckable = holderUncheckable(h);
  const wait = takesWait ? "wait for it, or pass --wait" : "run this again once it has ended";
  return new LockHeldError("locked", `another kopi-docka run holds the lock ${file}: ${describeHolder(h)}`, {
    hint: uncheckable ? `${uncheckable}: if no kopi-docka runs there, remove ${file}; else ${wait}` : wait,
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
      if (signal) reject(abortError(signal)); // only ever registered on a signal
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

import { AppError } from "../errors.ts";
import { confirmOwnership, readLock, removeIfOurs, replaceIfUnchanged } from "./file.ts";
import { describeHolder, holderUncheckable, isHeld, type LockInfo, ownerInfo } from "./owner.ts";

/**
 * The lock as `systemd status` reports it: free; held by a live process (or one this host cannot
 * check); or stale (its holder is gone, or the file is unreadable), which the next run takes over.
 */
export type LockState =
  | { file: string; state: "free" }
  | { file: string; state: "held"; holder: LockInfo; uncheckable?: string }
  | { file: string; state: "stale"; holder?: LockInfo };

export function lockState(file: string): LockState {
  const seen = readLock(file);
  if (!seen) return { file, state: "free" };
  if (!seen.info) return { file, state: "stale" };
  if (isHeld(seen.info)) {
    const uncheckable = holderUncheckable(seen.info);
    return { file, state: "held", holder: seen.info, ...(uncheckable ? { uncheckable } : {}) };
  }
  return { file, state: "stale", holder: seen.info };
}

/** What `unlock` did: nothing (the lock was free) or removed a stale lock. */
export interface UnlockResult {
  file: string;
  removed: boolean;
  /** The holder of the stale lock removed, when it was readable. */
  holder?: LockInfo;
}

/**
 * Removes the lock only when it is stale. The stale file is taken over the way `acquireLock` takes it
 * (atomically, under the takeover guard, re-checked), then released: a run that took the lock in the
 * meantime is never undone. A live or uncheckable holder is an `AppError("locked")`.
 */
export function unlockStale(file: string): UnlockResult {
  for (let attempt = 0; attempt < 20; attempt++) {
    const seen = readLock(file);
    if (!seen) return { file, removed: false };
    if (seen.info && isHeld(seen.info)) {
      const uncheckable = holderUncheckable(seen.info);
      throw new AppError("locked", `the lock ${file} is held by a live run: ${describeHolder(seen.info)}`, {
        hint: uncheckable
          ? `${uncheckable}: only if no kopi-docka runs there, remove ${file} by hand`
          : "it is released when that run ends; `kopi-docka backup --wait` waits for it",
      });
    }
    const mine = ownerInfo(`unlock-${process.pid}-${Date.now()}`, "systemd unlock");
    if (replaceIfUnchanged(file, seen, mine) && confirmOwnership(file, mine)) {
      removeIfOurs(file, mine);
      return { file, removed: true, ...(seen.info ? { holder: seen.info } : {}) };
    }
  }
  throw new AppError("locked", `the lock ${file} kept changing; nothing removed`, { hint: "try again" });
}

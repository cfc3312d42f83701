import { LockHeldError } from "../lock/acquire.ts";
import { readLock } from "../lock/file.ts";
import { withHostLock } from "../lock/host-lock.ts";
import { ownerInfo } from "../lock/owner.ts";
import type { Logger } from "../log.ts";

/** What a change of kopia's connection needs to take the host lock. */
export interface ConnectionLockDeps {
  paths: { lockFile: string };
  log: Logger;
  /** Aborts the wait for the lock; callers without one (setup's commit) hold the lock already. */
  lifecycle?: { signal: AbortSignal };
}

/**
 * Runs `change` (a new kopia connection put in place) under the host lock: a backup that holds it
 * must never have its connection replaced mid-run. A command that holds the lock already (backup,
 * `repo connect`, setup) goes ahead; any other (restore's listing, `repo verify`, `kopia`) takes it
 * for the change, and while another run holds it, fails with exit 11, having changed nothing.
 */
export async function withConnectionLock<T>(d: ConnectionLockDeps, change: () => Promise<T>): Promise<T> {
  if (holdsLock(d.paths.lockFile)) return change();
  const lifecycle = d.lifecycle ?? { signal: new AbortController().signal };
  let changing = false;
  try {
    return await withHostLock({ ...d, lifecycle }, "repository connect", {}, () => {
      changing = true;
      return change();
    });
  } catch (e) {
    if (changing || !(e instanceof LockHeldError)) throw e;
    throw new LockHeldError(
      "locked",
      `kopi-docka's repository connection must change, which waits for no other run: ${e.message}; nothing was changed`,
      { hint: "run this again once that run has ended", cause: e },
    );
  }
}

/** True when the lock file names this very process (pid, its start time, boot and pid namespace). */
function holdsLock(lockFile: string): boolean {
  const holder = readLock(lockFile)?.info;
  if (!holder) return false;
  const me = ownerInfo("", "");
  return (
    holder.pid === me.pid &&
    holder.processStartTime === me.processStartTime &&
    holder.bootId === me.bootId &&
    holder.pidNamespace === me.pidNamespace
  );
}

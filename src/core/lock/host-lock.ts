import { settleDeadRun } from "../containers/orphans.ts";
import type { Logger } from "../log.ts";
import { acquireLock } from "./acquire.ts";

/** What a command needs to run under the host-wide lock. */
export interface HostLockContext {
  paths: { lockFile: string };
  log: Logger;
  lifecycle: { signal: AbortSignal };
}

/**
 * Runs `fn` under the host-wide lock, as backup and restore do: a change to the repository or to
 * kopia's connection never runs while a backup writes to it (a held lock is exit 11, or a wait with
 * `wait`; a command without `--wait` leaves `wait` out). A dead run's lock is taken over, and what that run left running is ended first.
 */
export async function withHostLock<T>(
  ctx: HostLockContext,
  command: string,
  o: { wait?: boolean },
  fn: () => Promise<T>,
): Promise<T> {
  const lock = await acquireLock(ctx.paths.lockFile, {
    runId: `${command.replace(/\s+/g, "-")}-${process.pid}-${Date.now()}`,
    command,
    wait: o.wait,
    signal: ctx.lifecycle.signal,
    log: ctx.log,
  });
  try {
    await settleDeadRun(lock.tookOverFrom, { log: ctx.log });
    return await fn();
  } finally {
    lock.release();
  }
}

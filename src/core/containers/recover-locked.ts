import type { Docker } from "../docker/docker.ts";
import { AppError } from "../errors.ts";
import { removeStaleSnapshots, type SnapshotRecovery } from "../fs-snapshot/recover.ts";
import { acquireLock } from "../lock/acquire.ts";
import type { Logger } from "../log.ts";
import type { Runner } from "../process/runner.ts";
import { createJournal } from "./journal.ts";
import { inFlightOf, type RecoverResult, recoverContainers, sweepTempDirs } from "./recover.ts";

/** What `recover` reports: the recovery, and how many journal entries it found and left. */
export interface RecoverReport extends RecoverResult {
  /** Entries in the journal before this recovery. */
  pendingBefore: number;
  /** Entries left that belong to runs still alive (not counting failed starts). */
  leftForLiveRuns: number;
  /** Filesystem snapshots (`fs-snapshot` mode) dead runs left: removed now, or not and why. */
  snapshots: SnapshotRecovery;
}

export interface RecoverLockedContext {
  paths: { lockFile: string; journalDir: string };
  docker: Docker;
  log: Logger;
  lifecycle: { signal: AbortSignal };
  /** Given, filesystem snapshots dead runs left are removed too (the command context has it). */
  runner?: Runner;
  /** `backup.stop_timeout`, for a dead run's stop that may still be under way (stop-in-flight.ts). */
  config?: { backup: { stop_timeout: number } };
}

/**
 * `kopi-docka recover`: under the host-wide lock, so a start never lands in the cold window of a run
 * that is live now (that run healed the journal itself when it took the lock); a dead run's lock is
 * taken over. A container that could not be started is in the report (`recoverError` turns it into the
 * command's error once the report is printed); the journal keeps it.
 */
export async function recoverUnderLock(
  ctx: RecoverLockedContext,
  options: { wait: boolean },
): Promise<RecoverReport> {
  const lock = await acquireLock(ctx.paths.lockFile, {
    runId: `recover-${process.pid}-${Date.now()}`,
    command: "recover",
    wait: options.wait,
    signal: ctx.lifecycle.signal,
    log: ctx.log,
  });
  const journal = createJournal(ctx.paths.journalDir, { warn: (m) => ctx.log.warn(m) });
  const pendingBefore = journal.entries().length;
  let result: RecoverResult;
  let snapshots: SnapshotRecovery = { removed: [], failed: [] };
  try {
    result = await recoverContainers({
      docker: ctx.docker,
      journal,
      log: ctx.log,
      ...(lock.tookOverFrom ? { deadRun: lock.tookOverFrom } : {}),
      ...inFlightOf(ctx),
    });
    if (ctx.runner)
      snapshots = await removeStaleSnapshots({
        runner: ctx.runner,
        journalDir: ctx.paths.journalDir,
        log: ctx.log,
      });
    sweepTempDirs(ctx.log, ctx.paths.journalDir);
  } finally {
    lock.release();
  }
  const leftForLiveRuns = journal.entries().length - result.failed.length - result.held.length;
  return { ...result, pendingBefore, leftForLiveRuns, snapshots };
}

/** The `restart_failed` error of a recovery that could not start every container, if any. */
export function recoverError(report: RecoverReport): AppError | undefined {
  if (report.failed.length === 0 && report.held.length > 0)
    return new AppError(
      "restart_failed",
      `${report.held.length} container(s) left stopped: a restore was replacing their data when it ended: ${report.held.map((f) => f.name).join(", ")}`,
      {
        hint: "restore them again or go back with the undo point (see above), then start them: `docker start NAME`",
      },
    );
  if (report.failed.length === 0) return undefined;
  return new AppError(
    "restart_failed",
    `${report.failed.length} container(s) could not be started: ${report.failed.map((f) => f.name).join(", ")}`,
    { hint: "fix the cause (see above), then run `kopi-docka recover` again; the journal keeps them" },
  );
}

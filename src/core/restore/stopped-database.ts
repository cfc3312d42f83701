import { errorMessage } from "../caught.ts";
import { AppError } from "../errors.ts";
import { untilReady } from "./dump-feed.ts";
import type { DumpStep } from "./dumps.ts";
import type { RestoreDeps } from "./result.ts";

/**
 * A standalone database the restore found stopped: started for its undo dump and stopped again, or
 * started for its feed when `--start` counted on it.
 */

/**
 * A standalone database stopped before the restore exists, so `--start` does not recreate it; the
 * plan counted on `--start` to bring it up for its feed (and took its undo dump so): started here,
 * alone, before its clients. The names started.
 */
export async function startStoppedDatabases(
  d: Pick<RestoreDeps, "docker" | "log">,
  dumps: readonly DumpStep[],
): Promise<string[]> {
  const started: string[] = [];
  for (const step of dumps)
    if (
      !step.service &&
      (await d.docker.exists(step.container)) &&
      !(await d.docker.isRunning(step.container))
    ) {
      await d.docker.start(step.container);
      d.log.info(`started ${step.container} for its dump`);
      started.push(step.container);
    }
  return started;
}

/**
 * Runs `fn` with a stopped database container started and taking connections, then stops it again
 * (also when `fn` fails): it is left as it was found.
 */
export async function whileStartedForUndo(
  d: RestoreDeps,
  step: DumpStep,
  signal: AbortSignal,
  fn: () => Promise<void>,
): Promise<void> {
  d.log.info(`starting ${step.container} for its undo dump (it is stopped again after)`);
  try {
    await d.docker.start(step.container);
    try {
      await untilReady(d, step, signal, d.config.backup.start_timeout);
      await fn();
    } finally {
      await d.docker.stop(step.container, d.config.backup.stop_timeout);
    }
  } catch (e) {
    if (signal.aborted) throw e;
    throw new AppError(
      "restore_failed",
      `the stopped database in ${step.container} could not be dumped for the undo point (${errorMessage(e)}); nothing was overwritten`,
      {
        hint: `to restore it without keeping what it holds now: docker rm ${step.container} (its volumes stay), then restore again with --start`,
        cause: e,
      },
    );
  }
}

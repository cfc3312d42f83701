import { join } from "node:path";
import { errorMessage } from "../caught.ts";
import { UsageError } from "../errors.ts";
import { runHook } from "../hooks.ts";
import { applyWholeData, identity } from "../kopia/policy.ts";
import { type RestoreRunState, registerRestoreEnd } from "./abort.ts";
import { writeOverride } from "./compose-override.ts";
import { restoreBind, restoreVolume, takeUndoSnapshot } from "./content.ts";
import { restoreDump, takeUndoDump } from "./dump-feed.ts";
import { type DumpStep, dumpTarget } from "./dumps.ts";
import { fileStamp, writeRecipeFiles } from "./files.ts";
import { renamer } from "./names.ts";
import { applyNetworks } from "./networks.ts";
import { holdPartial, skippedHookText } from "./partial-hold.ts";
import type { RestoreDeps, RestoreResult } from "./result.ts";
import { settleHolds } from "./settle-held.ts";
import { startAgain } from "./start-again.ts";
import { restoreStops } from "./stop-journal.ts";
import { whileStartedForUndo } from "./stopped-database.ts";
import type { RestorePlan } from "./types.ts";

/** A plan with refusals: the run refuses it, and `--dry-run` ends the same way once it has shown it. */
export function refusedError(plan: Pick<RestorePlan, "refusals">): UsageError {
  return new UsageError(`restore refused, nothing was changed:\n  ${plan.refusals.join("\n  ")}`);
}

/**
 * Walks a plan: pre-restore hook, stop the containers that use what is restored, undo point,
 * networks, volumes, binds, recipe files, start, start again what it stopped (`start-again.ts`),
 * post-restore hook; on data that came back short, holds instead (`partial-hold.ts`). On failure or
 * a signal, the containers it stopped stay stopped and are logged, with the undo point; temp data
 * (`tempDir`) is removed either way.
 */
export async function executeRestore(
  d: RestoreDeps,
  plan: RestorePlan,
  o: { runId: string; tempDir: string; now: Date },
): Promise<RestoreResult> {
  const { log, lifecycle } = d;
  const signal = lifecycle.signal;
  if (plan.refusals.length) throw refusedError(plan);
  const runState: RestoreRunState = { stopped: [], done: false };
  const result: RestoreResult = {
    runId: o.runId,
    volumes: [],
    binds: [],
    files: [],
    backups: [],
    started: [],
    warnings: [...plan.warnings],
  };
  const stops = restoreStops(d, { runId: o.runId, unit: plan.point.unit });
  const guard = registerRestoreEnd(d, plan.point.unit, o.tempDir, runState, stops);
  // Once: every container stopped so far is held before the first byte of data is replaced.
  // `written` first: a signal while the hold is recorded leaves the containers stopped, never started.
  const replacing = async (what: string) => {
    const first = !runState.written;
    runState.written = true;
    if (first) await stops.hold(runState.undoPoint, plan.users);
    runState.writing = what;
    lifecycle.throwIfInterrupted();
  };
  try {
    const hook = (type: "pre_restore" | "post_restore", file: string) =>
      runHook(d.runner, file, {
        type,
        unit: plan.point.unit,
        runId: o.runId,
        timeoutSec: d.config.backup.hooks.timeout,
        signal,
        env: { KOPI_DOCKA_RESTORE_POINT: plan.point.key },
        onOutputLine: (l) => log.info(`  ${type}: ${l}`),
      });
    if (plan.hooks.pre) await hook("pre_restore", plan.hooks.pre);
    const stop = async (which: (c: { name: string }) => boolean) => {
      for (const c of plan.stop.filter(which)) {
        lifecycle.throwIfInterrupted();
        log.info(`stopping ${c.name}`);
        // Listed before the stop returns: a signal waits for an in-flight stop, then reports it.
        runState.stopped.push(c);
        await stops.stopping(c);
        await d.docker.stop(c.id, d.config.backup.stop_timeout);
      }
    };
    const c = {
      ...d,
      signal,
      onFewerFiles: (message: string) => {
        result.incomplete = [...(result.incomplete ?? []), message];
        result.warnings.push(message);
      },
    };
    // Every undo snapshot carries how many there are: one missing shows the point incomplete.
    const undo = {
      runId: o.runId,
      timestamp: o.now.toISOString(),
      count: (plan.dumps ?? []).filter((s) => s.undo).length + plan.undo.length,
    };
    // A database that is fed its dump is dumped for the undo point while it runs: after its clients
    // stopped (nothing writes to it any more), before it is stopped itself (a bind of it restored too).
    const fed = new Set((plan.dumps ?? []).map((s) => s.container));
    // Before anything stops: the undo snapshots must hold every file the restore may remove.
    if (plan.undo.length > 0) await applyWholeData(d.kopia, identity(d), log);
    await stop((x) => !fed.has(x.name));
    const undoDump = async (step: DumpStep) => {
      await takeUndoDump(c, plan.point.unit, step, undo);
      result.undoPoint = `${plan.point.unit}@${o.runId}`;
      runState.undoPoint = result.undoPoint;
    };
    for (const step of plan.dumps ?? []) {
      if (!step.undo) continue;
      lifecycle.throwIfInterrupted();
      // A stopped database (`--start` starts it for the feed) is started for its undo dump alone,
      // before anything is replaced: a dump that fails then leaves everything as it was.
      if (step.undo.stopped) await whileStartedForUndo(d, step, signal, () => undoDump(step));
      else await undoDump(step);
    }
    await stop((x) => fed.has(x.name));
    for (const item of plan.undo) {
      lifecycle.throwIfInterrupted();
      await takeUndoSnapshot(c, plan, item, undo);
      result.undoPoint = `${plan.point.unit}@${o.runId}`;
      runState.undoPoint = result.undoPoint;
    }
    const names = renamer(plan.request.as, plan.targetDir);
    await applyNetworks(d.docker, plan.networks, { labels: names.labels, log });
    // What this run wrote so far: a later path under one is never written through a link in its data.
    const written: string[] = [];
    for (const v of plan.volumes) {
      lifecycle.throwIfInterrupted();
      await replacing(`volume ${v.name}`);
      const device = await restoreVolume(c, v, written);
      if (device) written.push(device);
      result.volumes.push(v.name);
    }
    for (const b of plan.binds) {
      lifecycle.throwIfInterrupted();
      await replacing(`bind mount ${b.path}`);
      written.push(await restoreBind(c, b, written));
      result.binds.push(b.path);
    }
    runState.writing = undefined;
    // A source short of files: nothing is whole, no hold ends and nothing starts on it but a database
    // fed its dump (`partial-hold.ts`).
    const short = Boolean(result.incomplete?.length);
    // Every source written (else after the dumps): the holds it can end, before anything starts.
    let settled: string[] = [];
    if (!plan.dumps?.length && !short) settled = await settleHolds(stops, plan, log);
    const recipeDir = plan.files.length ? join(o.tempDir, "recipe") : "";
    if (recipeDir) {
      result.backups = writeRecipeFiles(recipeDir, plan.files, { stamp: fileStamp(o.now), log });
      result.files = plan.files.filter((f) => f.action !== "same").map((f) => f.to);
    }
    if (plan.override) {
      const bak = writeOverride(plan.override, fileStamp(o.now), log);
      if (bak) result.backups.push(bak);
    }
    lifecycle.throwIfInterrupted();
    const starts = startAgain(d, plan, { runState, stops, result, signal });
    // With dumps to feed, compose starts the databases alone; the rest of the project once they are fed.
    const first = plan.start?.kind === "compose" ? plan.start.first : undefined;
    if (first || !short) await starts.unit(first);
    // A database comes back first and is fed its dump; the containers that use it start only then,
    // so none reconnects to the old data in between (a failed feed leaves them stopped, and says so).
    await starts.stopped((s) => fed.has(s.name));
    if (plan.start?.kind === "run") await starts.stoppedDatabases();
    for (const step of plan.dumps ?? []) {
      lifecycle.throwIfInterrupted();
      const into = await restoreDump(d, step, signal, d.config.backup.start_timeout, async () => {
        await replacing(`the database in ${dumpTarget(step)}`);
      });
      result.dumps = [...(result.dumps ?? []), into];
    }
    runState.writing = undefined;
    if (short) {
      const hold = await holdPartial(stops, plan, { runId: o.runId, undoPoint: result.undoPoint, log });
      result.held = hold.held;
      result.heldNext = hold.next;
    } else if (plan.dumps?.length) settled = await settleHolds(stops, plan, log);
    if (first && !short) await starts.unit();
    if (!short) {
      await starts.existing(settled);
      await starts.stopped(() => true, true);
    }
    await starts.confirm();
    // Short data: the hook is not run on it (`partial-hold.ts`); the warning says how to run it later.
    if (plan.hooks.post) {
      const warning = short
        ? skippedHookText(plan.hooks.post, plan, o.runId)
        : await hook("post_restore", plan.hooks.post).then(
            () => undefined,
            (e) => errorMessage(e),
          );
      if (warning) {
        result.warnings.push(warning);
        log.warn(warning);
      }
    }
    runState.done = true;
    return result;
  } finally {
    await guard.run();
  }
}

import { errorMessage } from "../caught.ts";
import type { RestoreRunState } from "./abort.ts";
import { confirmRunning, runsUnhealthy, type StartedContainer } from "./readiness.ts";
import type { RestoreDeps, RestoreResult } from "./result.ts";
import { startableAfterSettle } from "./settle-held.ts";
import { startExisting, startRestoredUnit } from "./start.ts";
import type { RestoreStops } from "./stop-journal.ts";
import { startStoppedDatabases } from "./stopped-database.ts";
import type { RestorePlan } from "./types.ts";

/** The restore's start phase, step by step; `execute.ts` decides which steps a restore takes. */
export interface StartAgain {
  /** `--start`'s unit (only `services` when given); what it started is the result's `started`. */
  unit(services?: readonly string[]): Promise<void>;
  /** Containers the restore stopped, `which` of them, in start order (see below). */
  stopped(which: (s: { name: string }) => boolean, keepGoing?: boolean): Promise<void>;
  /** A standalone unit's stopped databases `--start` starts, before they are fed their dumps. */
  stoppedDatabases(): Promise<void>;
  /** With `--start`, a standalone container that exists stopped (crashed, or stopped by hand). */
  existing(settled: readonly string[]): Promise<void>;
  /** Every container started, judged once all are: running (and healthy) or named; pausing again. */
  confirm(): Promise<void>;
}

/**
 * Starts what the restore brings back and what it stopped, then confirms each one runs. Created just
 * before the first start: `confirm` looks at each container's state since then.
 */
export function startAgain(
  d: RestoreDeps,
  plan: RestorePlan,
  o: { runState: RestoreRunState; stops: RestoreStops; result: RestoreResult; signal: AbortSignal },
): StartAgain {
  const { log } = d;
  const { runState, stops, result, signal } = o;
  // Every container this run starts, judged once all are started: running (and healthy) or named.
  const began: StartedContainer[] = [];
  // Paused before the restore: its journal entry stays until it is paused again, so a run killed in
  // between leaves it for `recover` to name (`docker pause NAME`); its hold ends at the start.
  const toPause: string[] = [];
  const startsFrom = new Date();
  return {
    async unit(services) {
      if (!plan.start) return;
      result.started = await startRestoredUnit(d, plan.start, {
        signal,
        log,
        ...(services ? { services } : {}),
      });
    },
    // The reverse of the stops (`plan.stop` is in stop order): a container after those it needs.
    // `keepGoing`: once every source is restored, one that does not start leaves the others to go on
    // (named in `restartFailed`, exit 4); before that (a database to feed) its failure ends the restore.
    async stopped(which, keepGoing = false) {
      for (const s of [...runState.stopped].reverse().filter(which)) {
        try {
          // Gone meanwhile (`compose up` recreated it): nothing to start.
          if (await d.docker.exists(s.id)) {
            await d.docker.start(s.id);
            log.info(`started ${s.name} again`);
            began.push({ ref: s.id, name: s.name, ...(s.paused ? { paused: true } : {}) });
            if (s.paused) toPause.push(s.id);
          }
          if (toPause.includes(s.id)) await stops.release(s.id);
          else await stops.done(s.id);
        } catch (e) {
          if (!keepGoing) throw e;
          log.warn(`${s.name} could not be started again: ${errorMessage(e)}`);
          result.restartFailed = [...(result.restartFailed ?? []), s.name];
          // Its data is whole: the next run's recovery starts it, as a backup's would.
          await stops.release(s.id);
        }
        runState.stopped.splice(runState.stopped.indexOf(s), 1);
      }
    },
    async stoppedDatabases() {
      for (const name of await startStoppedDatabases(d, plan.dumps ?? [])) began.push({ ref: name, name });
    },
    // The restore does not recreate such a container: `--start` starts it, now that its data is whole.
    async existing(settled) {
      if (!plan.start) return;
      const existing = await startExisting(d.docker, startableAfterSettle(plan.start, settled, log), log);
      result.started.push(...existing.started);
      if (plan.start.kind === "run") began.push(...result.started.map((n) => ({ ref: n, name: n })));
      for (const f of existing.failed) {
        log.warn(`${f.name} could not be started: ${f.reason}`);
        result.warnings.push(`${f.name} could not be started: ${f.reason}`);
        result.restartFailed = [...(result.restartFailed ?? []), f.name];
      }
    },
    async confirm() {
      const ready = await confirmRunning(d, began, {
        timeoutSec: d.config.backup.start_timeout,
        since: startsFrom,
        ...(plan.start?.kind === "compose" ? { project: plan.start.project } : {}),
      });
      for (const id of toPause) await stops.done(id);
      result.warnings.push(...ready.warnings);
      if (ready.pausedAgain.length) result.pausedAgain = ready.pausedAgain;
      if (ready.notRunning.length) {
        result.notRunning = ready.notRunning;
        const down = ready.notRunning.filter((n) => !runsUnhealthy(n)).map((n) => n.name);
        if (down.length) result.restartFailed = [...(result.restartFailed ?? []), ...down];
      }
    },
  };
}

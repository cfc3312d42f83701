import { errorMessage } from "../caught.ts";
import { finishedJob } from "../containers/settle.ts";
import { pollWhile } from "../containers/stop-in-flight.ts";
import { ProcessError } from "../errors.ts";
import type { Compensation, Lifecycle } from "../safe-exit.ts";
import { PRIORITY } from "../safe-exit.ts";
import type { BackupDeps } from "./deps.ts";
import type { ContainerPlan, UnitPlan } from "./plan-model.ts";
import { RAN_MEANWHILE_NEXT, ranWhileStopped } from "./ran-meanwhile.ts";
import type { PhaseError } from "./result.ts";
import { finishedWarning, type Started } from "./settle.ts";

const interrupted = (item: string): PhaseError => ({
  phase: "interrupted",
  item,
  message: "interrupted before this container was stopped",
});

/** The name of a container's restart compensation: `start container <name>`. */
const RESTART = "start container ";

/**
 * The containers whose restart compensation threw, with why: on the signal path, left stopped (the
 * journal keeps them). The interrupted run's record must name them, as the normal path's does.
 */
export function restartsFailed(lifecycle: Pick<Lifecycle, "failed">): { name: string; reason: string }[] {
  return lifecycle
    .failed(PRIORITY.restartContainers)
    .filter((f) => f.name.startsWith(RESTART))
    .map((f) => ({ name: f.name.slice(RESTART.length), reason: errorMessage(f.error) }));
}

/** Counts a container another path could not start (the heal) among the failed restarts. */
export function noteRestartFailed(
  lifecycle: Pick<Lifecycle, "noteFailed">,
  name: string,
  reason: string,
): void {
  lifecycle.noteFailed(`${RESTART}${name}`, PRIORITY.restartContainers, new Error(reason));
}

export interface StoppedContainer {
  plan: ContainerPlan;
  restart: Compensation;
  /** Its State.StartedAt before our stop. */
  startedAt: string;
  /** When our `docker stop` returned, done (wall clock ms); unset when it failed. */
  stopDoneAt?: number;
  /** When our `docker start` was issued (wall clock ms), set by the restart. */
  startIssuedAt?: number;
  /** It was paused before our stop (`docker stop` unpauses it): paused again once it runs. */
  paused?: boolean;
}

/**
 * Stops the unit's running containers in stop order. Before each stop a restart-journal entry is made
 * durable; right after it a restart compensation is registered, so a crash, a signal or a failure
 * later still brings the container back. Stops at the first failure (`ok: false`): data read while an
 * app still runs would not be a cold copy.
 */
export async function stopUnit(
  d: BackupDeps,
  unit: UnitPlan,
  runId: string,
): Promise<{ stopped: StoppedContainer[]; errors: PhaseError[]; firstStopAt?: number }> {
  const stopped: StoppedContainer[] = [];
  // When the first `docker stop` was issued (performance.now()): where the cold window opens.
  let firstStopAt: number | undefined;
  for (const name of unit.stopOrder) {
    const plan = unit.containers.find((c) => c.name === name);
    if (!plan) continue;
    // After a signal nothing new is recorded or stopped: the signal path is restarting what was. From
    // the check after the inspect to the spawn of `docker stop` nothing awaits, so no signal slips in.
    if (d.lifecycle.signal.aborted) return { stopped, errors: [interrupted(name)], firstStopAt };
    let startedAt = "";
    let paused = false;
    try {
      const state = await d.docker.containerState(plan.id);
      if (d.lifecycle.signal.aborted) return { stopped, errors: [interrupted(name)], firstStopAt };
      if (!state.Running) {
        d.log.info(`${unit.name}: ${name} is no longer running; left alone`);
        continue;
      }
      d.journal.record({
        runId,
        pid: process.pid,
        unit: unit.name,
        containerId: plan.id,
        containerName: name,
        stoppedAt: (d.now?.() ?? new Date()).toISOString(),
        startedAt: state.StartedAt ?? "",
        stopTimeout: plan.stopTimeout,
        ...(state.Paused ? { paused: true } : {}),
      });
      startedAt = state.StartedAt ?? "";
      paused = state.Paused === true;
    } catch (e) {
      return { stopped, errors: [{ phase: "stop", item: name, message: errorMessage(e) }], firstStopAt };
    }
    // Whether the stop failed in a way that may leave it under way in the daemon. The restart awaits
    // it, not a flag set in the catch below: on a signal the restart runs as soon as the killed CLI has
    // exited, before that catch has run, and a `docker start` of a container still stopping is a no-op
    // that would clear its journal entry, the stop then completing after it.
    let stopping: Promise<boolean> = Promise.resolve(false);
    const restart = d.lifecycle.register(`${RESTART}${name}`, PRIORITY.restartContainers, async () => {
      if (await stopping) await untilStopped(d, plan.id, name, startedAt, sleepFor(d));
      entry.startIssuedAt = Date.now();
      await d.docker.start(plan.id);
      d.journal.clear(runId, plan.id);
    });
    const entry: StoppedContainer = { plan, restart, startedAt, ...(paused ? { paused } : {}) };
    stopped.push(entry);
    d.log.info(`${unit.name}: stopping ${name} (timeout ${plan.stopTimeout}s)`);
    firstStopAt ??= performance.now();
    const issued = performance.now();
    const stop = d.docker.stop(plan.id, plan.stopTimeout);
    // The daemon refused at once (AppArmor's "permission denied"): no stop is under way to wait for.
    stopping = stop.then(
      () => false,
      (e) => !refusedAtOnce(e, performance.now() - issued),
    );
    try {
      await stop;
      entry.stopDoneAt = Date.now();
    } catch (e) {
      return { stopped, errors: [{ phase: "stop", item: name, message: errorMessage(e) }], firstStopAt };
    }
  }
  return { stopped, errors: [], firstStopAt };
}

const sleepFor = (d: BackupDeps) => d.sleep ?? ((ms: number) => Bun.sleep(ms));

/** A `docker stop` the daemon answered with an error within a second: it signalled nothing. */
export function refusedAtOnce(e: unknown, elapsedMs: number): boolean {
  return (
    e instanceof ProcessError &&
    !e.timedOut &&
    e.signal === null &&
    elapsedMs < 1000 &&
    e.stderrTail.includes("Error response from daemon")
  );
}

/** How long a start waits for a container whose `docker stop` failed to finish stopping. */
export const STOP_SETTLE_SECONDS = 60;

/**
 * A `docker stop` cut off by its timeout (a process stuck in I/O) may still be under way in the
 * daemon: `docker start` would be a no-op on the still running container, the journal entry would be
 * cleared, and the container would exit after the run. So the start waits until the incarnation that
 * was stopped has exited; if it has not within STOP_SETTLE_SECONDS, the start fails (reported, alerted)
 * and the journal keeps it for the next run or `recover`.
 */
async function untilStopped(
  d: BackupDeps,
  id: string,
  name: string,
  startedAt: string,
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  // The time slept, not the wall clock: a test's instant sleep ends the wait as a real one would.
  let slept = 0;
  const clock = {
    now: () => slept,
    sleep: async (ms: number) => {
      await sleep(ms);
      slept += ms;
    },
  };
  const stillRuns = (s: { Running: boolean; StartedAt?: string }) => s.Running && s.StartedAt === startedAt;
  const read = () => d.docker.containerState(id);
  const last = await pollWhile(read, await read(), stillRuns, STOP_SETTLE_SECONDS * 1000, clock);
  if (stillRuns(last))
    throw new Error(
      `${name} is still stopping ${STOP_SETTLE_SECONDS} s after its docker stop failed; \`kopi-docka recover\` starts it once it has`,
    );
}

/**
 * Starts what `stopUnit` stopped, in dependency order, each one running (and healthy, if it has a
 * healthcheck) before the next starts, bounded by `backup.start_timeout`. Never throws. One that
 * exits 0 where docker starts it no more (policy `no`, `on-failure`: a one-off job stopped mid-run and
 * run again) is finished, a warning, not a failed start. `ranMeanwhile`: the containers that ran
 * between our stop and our start, told by the state the wait read anyway
 * (`ran-meanwhile.ts`): no docker process is added, to the window or after it. `settling`: the ones
 * seen running, for the one look after the window that tells whether they still run (`settle.ts`).
 */
export async function startUnit(
  d: BackupDeps,
  unit: UnitPlan,
  stopped: readonly StoppedContainer[],
): Promise<{
  restartFailed: string[];
  errors: PhaseError[];
  warnings: string[];
  ranMeanwhile: string[];
  settling: Started[];
}> {
  const restartFailed: string[] = [];
  const warnings: string[] = [];
  const errors: PhaseError[] = [];
  const ranMeanwhile: string[] = [];
  const settling: Started[] = [];
  for (const name of unit.startOrder) {
    const s = stopped.find((x) => x.plan.name === name);
    if (!s) continue;
    d.log.info(`${unit.name}: starting ${name}`);
    try {
      await s.restart.run();
    } catch (e) {
      restartFailed.push(name);
      errors.push({ phase: "start", item: name, message: errorMessage(e) });
      continue;
    }
    const ready = await d.docker.waitRunning(s.plan.id, {
      timeoutSec: d.config.backup.start_timeout,
      healthcheck: s.plan.hasHealthcheck,
      restartPolicy: s.plan.restartPolicy,
      sleep: d.sleep,
    });
    const ran = ready.state && ranWhileStopped(s, ready.state);
    if (ran) {
      ranMeanwhile.push(name);
      errors.push({ phase: "stop", item: name, message: ran, next: RAN_MEANWHILE_NEXT(name) });
    }
    if (s.paused && (ready.ok || ready.running)) await pauseAgain(d, unit.name, name, s.plan.id);
    if (ready.ok) {
      settling.push({ id: s.plan.id, name, seen: ready.state, mayFinish: true, runningAt: Date.now() });
      continue;
    }
    const policy = s.plan.restartPolicy ?? "no";
    if (ready.state && finishedJob(true, ready.state, policy)) {
      const finished = finishedWarning(name, policy);
      warnings.push(finished);
      d.log.warn(`${unit.name}: ${finished}`);
      continue;
    }
    if (!ready.running) restartFailed.push(name);
    errors.push({ phase: ready.running ? "health" : "start", item: name, message: ready.reason });
  }
  return { restartFailed, errors, warnings, ranMeanwhile, settling };
}

/**
 * A container the admin had paused is left as it was found: `docker stop` unpaused it for a clean
 * stop, so it is paused again once it runs (after its health wait, which a frozen container would
 * never pass). A failed pause leaves it running, which is said; it is no failed restart.
 */
async function pauseAgain(d: BackupDeps, unit: string, name: string, id: string): Promise<void> {
  try {
    await d.docker.pause(id);
    d.log.info(`${unit}: ${name} paused again, as it was before the backup`);
  } catch (e) {
    d.log.warn(
      `${unit}: ${name} was paused before the backup and runs now: ${errorMessage(e)}; \`docker pause ${name}\` pauses it again`,
    );
  }
}

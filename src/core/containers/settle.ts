import { runsNow, staysDown } from "../docker/containers.ts";
import type { Docker } from "../docker/docker.ts";
import type { ContainerInspect, ContainerState } from "../docker/schemas.ts";
import { policyOf } from "./held-policy.ts";

/**
 * How long a container must keep running after the wait saw it run: `docker start` returns once the
 * process is launched, so one that fails on its data (or on anything else) at once is still seen
 * running by the first look, and one in a crash loop under `always` is seen running between attempts.
 */
export const SETTLE_MS = 3000;

/** Started, but not running (or not healthy) once the wait is over: a failed start, with the next step. */
export interface NotRunning {
  name: string;
  /**
   * docker's State.Status ("exited", "restarting"), "removed", or for one that runs its
   * State.Health.Status ("unhealthy", "starting"): see `restore/readiness.ts` `runsUnhealthy`.
   */
  state: string;
  reason: string;
  next: string;
}

/** A container the wait saw running, looked at again once SETTLE_MS has passed. */
export interface Settling {
  name: string;
  /** The state the wait (or the look before) saw it run in: that incarnation (its StartedAt) must still run. */
  seen: ContainerState;
  /**
   * One that exits 0 and that docker starts no more (policy `no`, `on-failure`) is a finished job: a
   * compose init job a restore started, a one-off job a backup stopped mid-run and started again.
   */
  mayFinish?: boolean;
  /** `seen` is what a look before saw: its restart policy had started it again (or was about to). */
  restarted?: boolean;
}

/**
 * How many looks, SETTLE_MS apart, a container its restart policy keeps starting again is given to
 * run steadily: as long as the start may take (`backup.start_timeout`), at least two. docker's restart
 * delay doubles from 100 ms, so the app that starts before its database accepts connections may crash
 * a few times over several seconds and then run; one still restarting at the last look is crash-looping.
 */
export const settleLooks = (startTimeoutSec: number) =>
  Math.max(2, Math.floor((startTimeoutSec * 1000) / SETTLE_MS));

/**
 * Runs steadily now, after its restart policy started it again since our start (docker resets
 * RestartCount at `docker start`): the app that starts before its database accepts connections,
 * crashes once and runs once it does. Said, as a warning, not a failed start.
 */
export interface RunsRestarted {
  name: string;
  warning: string;
}

export const isRestarted = (v: SettleVerdict): v is RunsRestarted => typeof v !== "string" && "warning" in v;

/** "look again": restarted by its policy since `seen` (or restarting now); a later look, SETTLE_MS on, tells. */
export type SettleVerdict = "runs" | "finished" | "look again" | RunsRestarted | NotRunning;

export const notRunning = (name: string, state: string, reason: string): NotRunning => ({
  name,
  state,
  reason,
  next: `see why: docker logs ${name}`,
});

/** Gone by the look after its start: `docker run --rm` ended, or something removed it. */
const removedAfterStart = (name: string) =>
  notRunning(name, "removed", `removed within ${SETTLE_MS / 1000}s of its start`);

/** Docker starts it no more (`staysDown`) and it exited 0: a job that is done, not a failed start. */
export const finishedJob = (mayFinish: boolean | undefined, s: ContainerState, policy: string) =>
  mayFinish === true && !s.Running && s.Status === "exited" && s.ExitCode === 0 && staysDown(policy, 0);

/**
 * The look at `w`, `now` its inspect SETTLE_MS after it was seen (undefined: it is gone): "runs" when
 * the incarnation seen still runs (paused counts: the run may have paused it again), and
 * `RunsRestarted` when its restart policy had started it again before; "look again" when its policy
 * started it again or is about to (Restarting: docker reads Running=true between the attempts, which
 * is not running), unless this is the `last` look (`settleLooks`): then it is crash-looping. "finished"
 * for a finished job, else why it is not running.
 */
export function afterSettle(w: Settling, now: ContainerInspect | undefined, last = false): SettleVerdict {
  const s = now?.State;
  if (s && runsNow(s) && s.StartedAt === w.seen.StartedAt) {
    const restarts = now?.RestartCount ?? 0;
    return w.restarted || restarts > 0 ? runsRestarted(w.name, restarts) : "runs";
  }
  if (s && (runsNow(s) || s.Restarting) && !last) return "look again";
  if (now && s && finishedJob(w.mayFinish, s, policyOf(now).name)) return "finished";
  if (!now || !s) return removedAfterStart(w.name);
  return notRunning(
    w.name,
    s.Running ? "restarting" : s.Status,
    settleReason(s, now.RestartCount, w.restarted),
  );
}

const timesOf = (n: number) => `${n} time${n === 1 ? "" : "s"}`;

function runsRestarted(name: string, restarts: number): RunsRestarted {
  const times = restarts > 0 ? ` ${timesOf(restarts)}` : "";
  return {
    name,
    warning: `${name} exited after the start and was restarted${times} by its restart policy; it runs now (see why: docker logs ${name})`,
  };
}

/**
 * One look at `looking`: each one's verdict, and those to look at again (`again`, each with the
 * incarnation it must keep). `now` finds a container's inspect in the look's answer; `last`: none is
 * looked at again (`settleLooks`).
 */
export function judgeLook<T extends Settling>(
  looking: readonly T[],
  now: (t: T) => ContainerInspect | undefined,
  last = false,
): { again: T[]; judged: { t: T; verdict: Exclude<SettleVerdict, "look again"> }[] } {
  const out = { again: [] as T[], judged: [] as { t: T; verdict: Exclude<SettleVerdict, "look again"> }[] };
  for (const t of looking) {
    const c = now(t);
    const verdict = afterSettle(t, c, last);
    if (verdict === "look again" && c) out.again.push({ ...t, seen: c.State, restarted: true });
    else if (verdict !== "look again") out.judged.push({ t, verdict });
  }
  return out;
}

/** A container to look at after its start: as the wait saw it, and the id its inspect is found by. */
export interface SettleTarget extends Settling {
  id: string;
}

/** The verdict on `container`, and the inspect it was reached on (undefined: docker had none). */
export interface Settled<T extends SettleTarget> {
  container: T;
  verdict: Exclude<SettleVerdict, "look again">;
  inspect: ContainerInspect | undefined;
}

/**
 * The looks backup and restore take at what they started: SETTLE_MS after it was seen running (or at
 * `firstAt`, wall clock ms), one inspect of them all through docker, each judged (`judgeLook`); those
 * its restart policy started again are looked at again, SETTLE_MS on, up to `settleLooks` looks. The
 * verdicts in the order they were reached; `onSettled` hears each then, before the next look, so what
 * a caller does on it (a restore pausing again one that runs) waits for no other container's looks.
 * A signal during a wait ends the looks, unjudged: the run is interrupted and its end is not held for
 * them. A look docker cannot answer ends them too, `unanswered`: what that means is the caller's.
 */
export async function lookUntilSteady<T extends SettleTarget>(
  docker: Pick<Docker, "inspectContainers">,
  containers: readonly T[],
  o: {
    startTimeoutSec: number;
    firstAt?: number;
    sleep: (ms: number) => Promise<void>;
    signal?: AbortSignal;
    onSettled?: (s: Settled<T>) => Promise<void> | void;
  },
): Promise<{ settled: Settled<T>[]; unanswered?: { containers: T[]; error: unknown } }> {
  const settled: Settled<T>[] = [];
  const looks = settleLooks(o.startTimeoutSec);
  let looking = containers;
  let wait = o.firstAt === undefined ? SETTLE_MS : Math.max(0, o.firstAt - Date.now());
  for (let n = 1; looking.length; n++, wait = SETTLE_MS) {
    await o.sleep(wait);
    if (o.signal?.aborted) break;
    let now: ContainerInspect[];
    try {
      now = await docker.inspectContainers(looking.map((c) => c.id));
    } catch (error) {
      return { settled, unanswered: { containers: [...looking], error } };
    }
    // An id may be given short, as docker takes it: docker's full one starts with it.
    const inspectOf = (c: T) => now.find((x) => x.Id.startsWith(c.id));
    const look = judgeLook(looking, inspectOf, n >= looks);
    for (const { t, verdict } of look.judged) {
      const s = { container: t, verdict, inspect: inspectOf(t) };
      settled.push(s);
      await o.onSettled?.(s);
    }
    looking = look.again;
  }
  return { settled };
}

function settleReason(s: ContainerState, restarts: number | undefined, again?: boolean): string {
  const within = `within ${SETTLE_MS / 1000}s of ${again ? "a restart by its policy" : "its start"}`;
  const times = restarts ? ` (${restarts} restart${restarts === 1 ? "" : "s"} so far)` : "";
  // Restarting or running anew: only at the last look, after the looks before saw it restarted too.
  const looping = again ? ", at every look since its start: it is crash-looping" : "";
  // Between attempts ExitCode is the last one; once docker runs it again it reads 0, so none is said.
  if (s.Restarting)
    return again
      ? `exited (code ${s.ExitCode ?? "unknown"}) and is being restarted by its restart policy${times}${looping}`
      : `exited (code ${s.ExitCode ?? "unknown"}) ${within} and is being restarted by its restart policy${times}`;
  if (s.Running)
    return `exited and was started again by its restart policy${times}${looping || ": it is crash-looping"}`;
  return `exited with code ${s.ExitCode ?? "unknown"} ${within}`;
}

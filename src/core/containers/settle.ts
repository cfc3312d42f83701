import { runsNow, staysDown } from "../docker/containers.ts";
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
  /** `seen` is what the look before saw: its restart policy had started it again. This look is its last. */
  lookedAgain?: boolean;
}

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

/** "look again": running as another incarnation than `seen`; the next look, SETTLE_MS on, tells. */
export type SettleVerdict = "runs" | "finished" | "look again" | RunsRestarted | NotRunning;

export const notRunning = (name: string, state: string, reason: string): NotRunning => ({
  name,
  state,
  reason,
  next: `see why: docker logs ${name}`,
});

/** Docker starts it no more (`staysDown`) and it exited 0: a job that is done, not a failed start. */
export const finishedJob = (mayFinish: boolean | undefined, s: ContainerState, policy: string) =>
  mayFinish === true && !s.Running && s.Status === "exited" && s.ExitCode === 0 && staysDown(policy, 0);

/**
 * The look at `w`, `now` its inspect SETTLE_MS after it was seen (undefined: it is gone): "runs" when
 * the incarnation seen still runs (paused counts: the run may have paused it again), and
 * `RunsRestarted` when its restart policy had started it again before; "look again" when it runs as
 * another incarnation, once: running again at the next look as that one, it restarted and runs, as
 * another still, it is crash-looping. "finished" for a finished job, else why it is not running.
 * docker reads Running=true while a restart policy restarts it (Restarting): not running.
 */
export function afterSettle(w: Settling, now: ContainerInspect | undefined): SettleVerdict {
  const s = now?.State;
  if (s && runsNow(s) && s.StartedAt === w.seen.StartedAt) {
    const restarts = now?.RestartCount ?? 0;
    return w.lookedAgain || restarts > 0 ? runsRestarted(w.name, restarts) : "runs";
  }
  if (s && runsNow(s) && !w.lookedAgain) return "look again";
  if (now && s && finishedJob(w.mayFinish, s, policyOf(now).name)) return "finished";
  if (!now || !s) return notRunning(w.name, "removed", `removed within ${SETTLE_MS / 1000}s of its start`);
  return notRunning(
    w.name,
    s.Running ? "restarting" : s.Status,
    settleReason(s, now.RestartCount, w.lookedAgain),
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
 * incarnation it must keep). `now` finds a container's inspect in the look's answer.
 */
export function judgeLook<T extends Settling>(
  looking: readonly T[],
  now: (t: T) => ContainerInspect | undefined,
): { again: T[]; judged: { t: T; verdict: Exclude<SettleVerdict, "look again"> }[] } {
  const out = { again: [] as T[], judged: [] as { t: T; verdict: Exclude<SettleVerdict, "look again"> }[] };
  for (const t of looking) {
    const c = now(t);
    const verdict = afterSettle(t, c);
    if (verdict === "look again" && c) out.again.push({ ...t, seen: c.State, lookedAgain: true });
    else if (verdict !== "look again") out.judged.push({ t, verdict });
  }
  return out;
}

function settleReason(s: ContainerState, restarts: number | undefined, again?: boolean): string {
  const within = `within ${SETTLE_MS / 1000}s of ${again ? "a restart by its policy" : "its start"}`;
  const times = restarts ? ` (${restarts} restart${restarts === 1 ? "" : "s"} so far)` : "";
  // Between attempts ExitCode is the last one; once docker runs it again it reads 0, so none is said.
  if (s.Restarting)
    return `exited (code ${s.ExitCode ?? "unknown"}) ${within} and is being restarted by its restart policy${times}`;
  // Only at a second look: it ran as another incarnation at the first one, and as yet another now.
  if (s.Running)
    return `exited ${within} and was started again by its restart policy${times}: it is crash-looping`;
  return `exited with code ${s.ExitCode ?? "unknown"} ${within}`;
}

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
  /** The state the wait saw it run in: that incarnation (its StartedAt) must still run. */
  seen: ContainerState;
  /**
   * One that exits 0 and that docker starts no more (policy `no`, `on-failure`) is a finished job: a
   * compose init job a restore started. Never one that ran before (what a backup started again).
   */
  mayFinish?: boolean;
}

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
 * The second look at `w`, `now` its inspect after SETTLE_MS (undefined: it is gone): "runs" when the
 * incarnation the wait saw still runs (paused counts: the run may have paused it again), "finished"
 * for a finished job, else why it is not running. docker reads Running=true while a restart policy
 * restarts it (Restarting), and a new StartedAt means it exited and was started again meanwhile.
 */
export function afterSettle(
  w: Settling,
  now: ContainerInspect | undefined,
): "runs" | "finished" | NotRunning {
  const s = now?.State;
  if (s && runsNow(s) && s.StartedAt === w.seen.StartedAt) return "runs";
  if (now && s && finishedJob(w.mayFinish, s, policyOf(now).name)) return "finished";
  if (!now || !s) return notRunning(w.name, "removed", `removed within ${SETTLE_MS / 1000}s of its start`);
  return notRunning(w.name, s.Running ? "restarting" : s.Status, settleReason(s, now.RestartCount));
}

function settleReason(s: ContainerState, restarts: number | undefined): string {
  const secs = SETTLE_MS / 1000;
  const times = restarts ? ` (${restarts} restart${restarts === 1 ? "" : "s"} so far)` : "";
  // Between attempts ExitCode is the last one; once docker runs it again it reads 0, so none is said.
  if (s.Restarting)
    return `exited (code ${s.ExitCode ?? "unknown"}) within ${secs}s of its start and is being restarted by its restart policy${times}`;
  if (s.Running)
    return `exited within ${secs}s of its start and was started again by its restart policy${times}: it may be crash-looping`;
  return `exited with code ${s.ExitCode ?? "unknown"} within ${secs}s of its start`;
}

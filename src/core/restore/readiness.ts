import { errorMessage } from "../caught.ts";
import { policyOf } from "../containers/held-policy.ts";
import {
  finishedJob,
  isRestarted,
  lookUntilSteady,
  type NotRunning,
  notRunning,
  SETTLE_MS,
} from "../containers/settle.ts";
import { COMPOSE } from "../discovery/labels.ts";
import type { Docker } from "../docker/docker.ts";
import type { ContainerInspect, ContainerState } from "../docker/schemas.ts";
import { AppError } from "../errors.ts";
import type { Logger } from "../log.ts";

/** A container this restore started (`docker start`, `docker run`, `compose up`). */
export interface StartedContainer {
  /** Its id or name, as it was started. */
  ref: string;
  name: string;
  /** Paused before the restore stopped it: paused again once it runs. */
  paused?: boolean;
  /** Started by `compose up`: one that ran and exited 0 under policy `no` or `on-failure` is a finished job. */
  byCompose?: boolean;
}

/** Every service container of compose project `project` (not `compose run` one-offs), as started by `up`. */
async function composeStarted(docker: Docker, project: string): Promise<StartedContainer[]> {
  const rows = await docker.containersLabelled({ [COMPOSE.project]: project, [COMPOSE.oneoff]: "False" });
  return rows.map((r) => ({ ref: r.name, name: r.name, byCompose: true }));
}

/**
 * Waits (`waitRunning`, bounded by `backup.start_timeout`, healthy when it has a healthcheck) for each
 * container the restore started (`started`, and with `project` every container of that compose
 * project, found by its label), then looks at each once more, SETTLE_MS on, as a backup does
 * (`containers/settle.ts` `lookUntilSteady`): it must still run as the same incarnation; one its
 * restart policy started again and that then runs steadily is a warning, one still restarting at the
 * last look is not running (crash-looping). A compose container that was not started since `since`
 * (an orphan compose left stopped) is not ours to judge. One paused before the restore is paused
 * again once it runs (after its health wait, which a frozen container would never pass). Never throws.
 */
export async function confirmRunning(
  d: { docker: Docker; log: Logger },
  given: readonly StartedContainer[],
  o: { timeoutSec: number; since: Date; project?: string; sleep?: (ms: number) => Promise<void> },
): Promise<{ notRunning: NotRunning[]; pausedAgain: string[]; warnings: string[] }> {
  const out = { notRunning: [] as NotRunning[], pausedAgain: [] as string[], warnings: [] as string[] };
  const started = [...given];
  if (o.project)
    try {
      started.push(...(await composeStarted(d.docker, o.project)));
    } catch (e) {
      out.warnings.push(`cannot tell whether compose project ${o.project} runs: ${errorMessage(e)}`);
    }
  if (started.length === 0) return out;
  const sleep = o.sleep ?? ((ms: number) => Bun.sleep(ms));
  const inspects = await d.docker.inspectContainers(started.map((s) => s.ref)).catch(() => []);
  // By container id: compose's name and the id a restart used are one container.
  const targets = new Map<string, StartedContainer & { inspect: ContainerInspect }>();
  for (const s of started) {
    const c = inspects.find((x) => x.Id.startsWith(s.ref) || x.Name === `/${s.ref}`);
    if (!c) {
      out.notRunning.push(notRunning(s.name, "removed", "removed after it was started"));
      continue;
    }
    // Started again by its id too: it ran before the restore, so no finished job either.
    const seen = targets.get(c.Id);
    const byCompose = s.byCompose === true && (seen?.byCompose ?? true);
    const paused = Boolean(s.paused || seen?.paused);
    targets.set(c.Id, { ref: s.ref, name: s.name, byCompose, paused, inspect: c });
  }
  const running: { t: StartedContainer; id: string; state: ContainerState }[] = [];
  for (const [id, t] of targets) {
    const startedAt = Date.parse(t.inspect.State.StartedAt ?? "");
    if (t.byCompose && !t.inspect.State.Running && !(startedAt >= o.since.getTime())) continue;
    const policy = policyOf(t.inspect).name;
    const ready = await d.docker.waitRunning(id, {
      timeoutSec: o.timeoutSec,
      healthcheck: true,
      restartPolicy: policy,
      sleep,
    });
    if (ready.ok) {
      running.push({ t, id, state: ready.state ?? t.inspect.State });
      continue;
    }
    if (ready.running) {
      // Runs, but not healthy in time: named, and paused again as it was (backup does the same).
      if (t.paused) await pauseAgain(d, t.name, id, out);
      out.notRunning.push(unhealthy(t.name, ready.state?.Health?.Status, ready.reason));
      continue;
    }
    if (ready.state && finishedJob(t.byCompose, ready.state, policy)) {
      d.log.info(`${t.name} ran and exited 0 (a one-off job of the project)`);
      continue;
    }
    out.notRunning.push(notRunning(t.name, ready.state?.Status ?? "unknown", ready.reason));
  }
  const judged = new Set(out.notRunning.map((n) => n.name));
  const toLookAt = running
    .filter((r) => !judged.has(r.t.name))
    .map(({ t, id, state }) => ({ name: t.name, seen: state, mayFinish: t.byCompose, id, paused: t.paused }));
  const looked = await lookUntilSteady(d.docker, toLookAt, {
    startTimeoutSec: o.timeoutSec,
    sleep,
    // Said as each is judged: one that runs is paused again then, not once the slowest is judged.
    onSettled: async ({ container: r, verdict }) => {
      if ((verdict === "runs" || isRestarted(verdict)) && r.paused) await pauseAgain(d, r.name, r.id, out);
      if (isRestarted(verdict)) {
        d.log.warn(verdict.warning);
        out.warnings.push(verdict.warning);
      } else if (typeof verdict !== "string") out.notRunning.push(verdict);
    },
  });
  // A look docker cannot answer tells nothing of them: each is named as not known to run (exit 4),
  // never taken to run, and not said to be removed either.
  const { containers: untold = [], error } = looked.unanswered ?? {};
  for (const r of untold)
    out.notRunning.push(
      notRunning(
        r.name,
        "unknown",
        `docker did not answer the look ${SETTLE_MS / 1000}s after its start: ${errorMessage(error)}`,
      ),
    );
  for (const n of out.notRunning)
    d.log.warn(
      `${n.name} ${runsUnhealthy(n) ? "runs" : "is not running"} (${n.state}): ${n.reason}; ${n.next}`,
    );
  return out;
}

/** Runs, but its healthcheck has not passed (`unhealthy`, or still `starting`): exit 4, never "stopped". */
export const runsUnhealthy = (n: Pick<NotRunning, "state">) =>
  n.state === "unhealthy" || n.state === "starting";

/** Its failing probe's output is in its health log, not in `docker logs`; `docker start` does nothing. */
const unhealthy = (name: string, health: string | undefined, reason: string): NotRunning => ({
  name,
  state: health === "starting" ? "starting" : "unhealthy",
  reason: `runs but ${health === "starting" ? "is still starting" : "is unhealthy"}: ${reason}`,
  next: `see why: docker inspect --format '{{json .State.Health}}' ${name}`,
});

/** As backup does (`backup/containers.ts`): a failed pause leaves it running, which is said. */
async function pauseAgain(
  d: { docker: Docker; log: Logger },
  name: string,
  id: string,
  out: { pausedAgain: string[]; warnings: string[] },
): Promise<void> {
  try {
    await d.docker.pause(id);
    d.log.info(`${name} paused again, as it was before the restore`);
    out.pausedAgain.push(name);
  } catch (e) {
    const w = `${name} was paused before the restore and runs now: ${errorMessage(e)}; \`docker pause ${name}\` pauses it again`;
    d.log.warn(w);
    out.warnings.push(w);
  }
}

/**
 * Exit 4 for a restore that left a container down: its data is restored (nothing is rolled back), and
 * what is not running says what it is and what to look at.
 */
export function notStartedError(r: { restartFailed?: string[]; notRunning?: NotRunning[] }): AppError {
  const named = r.notRunning ?? [];
  const down = named.filter((n) => !runsUnhealthy(n));
  const sick = named.filter(runsUnhealthy);
  const failed = (r.restartFailed ?? []).filter((n) => !named.some((x) => x.name === n));
  const parts = [
    ...(failed.length ? [`${failed.join(", ")} could not be started`] : []),
    ...(down.length ? [`not running: ${down.map((n) => `${n.name} (${n.state})`).join(", ")}`] : []),
    ...sick.map((n) => `${n.name} runs but ${n.state === "starting" ? "is still starting" : "is unhealthy"}`),
  ];
  const hints = [
    ...(down.length
      ? [`see why: docker logs ${down[0]?.name ?? "NAME"}; fix it, then docker start NAME`]
      : []),
    ...(sick.length ? [sick[0]?.next ?? ""] : []),
    ...(failed.length
      ? [
          "fix the cause (see above), then `docker start NAME` or `kopi-docka recover`; the journal keeps them",
        ]
      : []),
  ];
  return new AppError(
    "restart_failed",
    `restored (the data is in place, nothing was rolled back), but ${parts.join("; ")}`,
    { hint: hints.join("; ") },
  );
}

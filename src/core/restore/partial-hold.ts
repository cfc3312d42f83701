import { shellQuote } from "../format.ts";
import type { Logger } from "../log.ts";
import type { RestoreStops } from "./stop-journal.ts";
import type { RestorePlan } from "./types.ts";

/**
 * A restore whose volume or bind came back with fewer files than its snapshot holds (exit 3) starts
 * nothing on that data: not the containers it stopped, not `--start`'s unit. It holds every container
 * of the restore instead, as one cut short while writing is held (journal `hold`, restart policy `no`),
 * so neither dockerd nor the next run's recovery brings them up, and the next backup refuses the unit
 * rather than keep the short data as its newest point, until the admin has looked at the data.
 *
 * The whole restore is held, not only the containers that mount what came back short: the restore
 * cannot see every way one container relies on another's data (an app on a database over the network),
 * and compose's `up` starts a service's `depends_on` with it. A database fed its dump is the exception:
 * the feed replaces its data whole, and it had to run for it (`execute.ts`).
 */

/** What the result says: the containers held, and the commands that go on from there. */
export interface PartialHold {
  held: string[];
  next: string[];
}

/** The hold every entry carries: what `recover`, `doctor` and a refused backup say of it. */
export function partialHoldText(runId: string, unit: string, undoPoint: string | undefined): string {
  const back = undoPoint
    ? `, or go back: kopi-docka restore --unit ${unit} --run ${undoPoint}`
    : " (no undo point was taken)";
  return `restore ${runId} of ${unit} brought back fewer files than the snapshot holds, so it was not started on that data: check it, then start it (docker start)${back}`;
}

/**
 * Holds what the restore stopped (and the stopped users it held) and says how to go on: `docker start`
 * of the held ones, in the order they start; with `--start`, the restore of the recipe alone that
 * starts the unit as `--start` would (it touches no data), for what does not exist yet.
 */
export async function holdPartial(
  stops: Pick<RestoreStops, "keepHeld">,
  plan: Pick<RestorePlan, "point" | "start">,
  o: { runId: string; undoPoint: string | undefined; log: Logger },
): Promise<PartialHold> {
  const unit = plan.point.unit;
  const held = await stops.keepHeld(partialHoldText(o.runId, unit, o.undoPoint));
  const next: string[] = [];
  if (held.length) next.push(`once its data is checked: docker start ${held.join(" ")}`);
  if (plan.start) {
    const what = plan.start.kind === "compose" ? `compose project ${plan.start.project}` : "the unit";
    next.push(
      `to start ${what} as --start would (no data is restored again): kopi-docka restore --unit ${unit} --run ${plan.point.key} --only recipe --start --yes`,
    );
  }
  if (o.undoPoint) next.push(`to go back: kopi-docka restore --unit ${unit} --run ${o.undoPoint} --yes`);
  const names = held.length ? `held, not started: ${held.join(", ")}` : "nothing was started";
  o.log.warn(`fewer files came back than the snapshot holds: ${names}`);
  for (const n of next) o.log.warn(`  ${n}`);
  return { held, next };
}

/**
 * A `post_restore` hook is not run on short data: it runs migrations, warms caches or tells users the
 * app is back. The warning says so and gives the command that runs it by hand, with the environment
 * the restore gives it, once the data is whole and the held containers run.
 */
export function skippedHookText(
  file: string,
  plan: Pick<RestorePlan, "point" | "start">,
  runId: string,
): string {
  const env = [
    "KOPI_DOCKA_HOOK_TYPE=post_restore",
    `KOPI_DOCKA_UNIT_NAME=${shellQuote(plan.point.unit)}`,
    `KOPI_DOCKA_RUN_ID=${shellQuote(runId)}`,
    `KOPI_DOCKA_RESTORE_POINT=${shellQuote(plan.point.key)}`,
  ];
  // That restore runs the configured hooks itself, on data that is whole then.
  const byStart = plan.start ? " (the restore with --only recipe --start runs it itself)" : "";
  return `post_restore hook ${file} was not run: fewer files came back than the snapshot holds; once the data is whole and the held containers are started, run it by hand${byStart}: ${env.join(" ")} ${shellQuote(file)}`;
}

import type { Logger } from "../log.ts";
import { PROJECT_LABEL } from "./names.ts";
import type { RestoreStops } from "./stop-journal.ts";
import type { ContainerState, RestorePlan, RestoreRequest, StartStep } from "./types.ts";

/**
 * Containers an interrupted restore holds (their data may be half restored) that this restore makes
 * whole again: the plan says what becomes of them, the executor ends their holds (`settleHeld`, the
 * policy put back) before anything starts, and `--start` starts the standalone ones it planned to.
 */

/** Only a restore of everything, in place, makes every half-restored source whole again. */
export const wholeInPlace = (r: Pick<RestoreRequest, "as" | "what" | "volumes">) =>
  !r.as && r.what === "all" && !r.volumes?.length;

/**
 * The held containers this restore settles: held for this unit alone (one also held for another
 * unit's restore stays held) and using what it restores.
 */
export function settledHolds(
  request: RestoreRequest,
  containers: readonly ContainerState[],
  unit: string,
  uses: (c: ContainerState) => boolean,
): ContainerState[] {
  if (!wholeInPlace(request)) return [];
  return containers.filter((c) => c.held && c.heldBy?.length && c.heldBy.every((u) => u === unit) && uses(c));
}

/**
 * What the plan says of them, where `planStart` has not (a standalone container `--start` starts):
 * compose up starts the project's own; any other stays stopped, its hold over.
 */
export function settledWarnings(settled: readonly ContainerState[], start: StartStep | undefined): string[] {
  return settled.flatMap((c) => {
    if (start?.kind === "compose" && c.labels?.[PROJECT_LABEL] === start.project)
      return [
        `--start: ${c.name} is held by a restore that did not finish; this one replaces its data whole, which ends the hold, and compose up starts it`,
      ];
    if (start?.kind === "run" && start.containers.some((x) => x.name === c.name && x.exists === "settles"))
      return [];
    return [
      `${c.name} is held by a restore that did not finish; this one replaces its data whole, which ends the hold (its restart policy put back), and leaves it stopped: start it when ready (docker start ${c.name})${start ? "" : ", or restore with --start"}`,
    ];
  });
}

/**
 * The start step `startExisting` walks once the holds are settled: a container the plan counted on
 * (`settles`) whose hold this run ended (`settled`, by name) is started as a stopped one; one still
 * held (an entry the plan did not see) stays stopped, and is said.
 */
export function startableAfterSettle(step: StartStep, settled: readonly string[], log: Logger): StartStep {
  if (step.kind !== "run") return step;
  const containers = step.containers.map((c) => {
    if (c.exists !== "settles") return c;
    if (settled.includes(c.name)) return { ...c, exists: "stopped" as const };
    log.warn(`${c.name} stays stopped: a restore that did not finish still holds it`);
    return c;
  });
  return { ...step, containers };
}

/**
 * Once every source is written (the dumps too): the containers it held that were stopped already are
 * free again, and a whole restore in place ends an interrupted one's holds on what it replaced. Before
 * anything starts, so `--start` starts those the plan says it does. The names whose holds it ended.
 */
export async function settleHolds(
  stops: Pick<RestoreStops, "restored" | "settleHeld">,
  plan: Pick<RestorePlan, "request" | "users" | "start">,
  log: Logger,
): Promise<string[]> {
  await stops.restored();
  if (!wholeInPlace(plan.request)) return [];
  const settled = await stops.settleHeld(plan.users ?? []);
  if (settled.length) log.info(settledText(settled, plan.start));
  return settled;
}

/** The log line once the holds are settled: which start with the unit (`startableAfterSettle`), which wait. */
function settledText(settled: readonly string[], start: StartStep | undefined): string {
  const starts = (n: string) =>
    start?.kind === "run" && start.containers.some((c) => c.name === n && c.exists === "settles");
  const now = settled.filter(starts);
  const later = settled.filter((n) => !starts(n));
  const parts = [
    ...(now.length ? [`starting ${now.join(", ")} with the unit`] : []),
    ...(later.length
      ? [
          `start ${later.join(", ")} when ready${start?.kind === "compose" ? " (compose up starts those of the project)" : ""}`,
        ]
      : []),
  ];
  return `finished what an interrupted restore left half done: ${parts.join("; ")}`;
}

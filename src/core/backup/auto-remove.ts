import type { ContainerPlan, UnitPlan } from "./plan-model.ts";
import type { UnitResult } from "./result.ts";

/**
 * Containers started with `docker run --rm` (`HostConfig.AutoRemove`). Docker deletes such a container,
 * and its anonymous volumes, the moment it stops: a cold backup's `docker stop` would end the service
 * for good (the start after the snapshots fails with "No such container") and destroy that data. So a
 * unit whose plan stops one is refused whole: none of its containers stops (a half-stopped unit is no
 * cold copy either), and the unit fails with the reason. A unit that stops nothing (live, dump,
 * `stop = false`) backs such a container up as any other.
 */
export function refuseAutoRemove(
  unit: string,
  containers: readonly ContainerPlan[],
): { containers: ContainerPlan[]; refused?: string } {
  const doomed = containers.filter((c) => c.action === "stop" && c.autoRemove).map((c) => c.name);
  if (doomed.length === 0) return { containers: [...containers] };
  const names = doomed.join(", ");
  const refused =
    `${names} ${doomed.length > 1 ? "were" : "was"} started with --rm: stopping it would make docker ` +
    `delete it and its anonymous volumes; nothing of unit ${unit} is stopped or backed up. Back it up ` +
    `without stopping it ([units.${unit}] stop = false, or mode = "dump" for a database; label ` +
    "kopi-docka.stop=false), or recreate it without --rm";
  return {
    refused,
    containers: containers.map((c) =>
      c.action !== "stop"
        ? c
        : {
            ...c,
            action: "kept_running",
            reason: c.autoRemove
              ? "started with --rm: `docker stop` would delete it and its anonymous volumes"
              : `not stopped: the unit is refused (${names} started with --rm)`,
          },
    ),
  };
}

/** The record of a refused unit: failed at its stop with the plan's reason; nothing stopped or read. */
export function refusedResult(plan: UnitPlan, at: Date): UnitResult {
  const item = plan.containers.find((c) => c.autoRemove && c.action === "kept_running")?.name;
  return {
    name: plan.name,
    backupId: plan.backupId,
    timestamp: at.toISOString(),
    status: "failed",
    sources: [],
    stopped: [],
    restartFailed: [],
    errors: [{ phase: "stop", ...(item ? { item } : {}), message: plan.refused ?? "refused" }],
    durationMs: 0,
  };
}

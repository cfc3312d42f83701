import type { ContainerPlan } from "./plan-model.ts";
import type { Refusal } from "./refusals.ts";

/**
 * Containers started with `docker run --rm` (`HostConfig.AutoRemove`). Docker deletes such a container,
 * and its anonymous volumes, the moment it stops: a cold backup's `docker stop` would end the service
 * for good (the start after the snapshots fails with "No such container") and destroy that data. So a
 * unit whose plan stops one is refused whole (`refusals.ts`). A unit that stops nothing (live, dump,
 * `stop = false`) backs such a container up as any other.
 */
export function autoRemoveRefusal(unit: string, containers: readonly ContainerPlan[]): Refusal | undefined {
  const doomed = containers.filter((c) => c.action === "stop" && c.autoRemove).map((c) => c.name);
  if (doomed.length === 0) return undefined;
  const names = doomed.join(", ");
  const next = `back it up without stopping it ([units.${unit}] stop = false, or mode = "dump" for a database; label kopi-docka.stop=false), or recreate it without --rm`;
  return {
    culprits: doomed,
    reason:
      `${names} ${doomed.length > 1 ? "were" : "was"} started with --rm: stopping it would make docker ` +
      `delete it and its anonymous volumes; nothing of unit ${unit} is stopped or backed up. Back it up ` +
      `without stopping it ([units.${unit}] stop = false, or mode = "dump" for a database; label ` +
      "kopi-docka.stop=false), or recreate it without --rm",
    short: `${names} started with --rm`,
    because: "started with --rm: `docker stop` would delete it and its anonymous volumes",
    next,
  };
}

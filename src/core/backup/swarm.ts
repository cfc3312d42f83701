import type { ContainerPlan } from "./plan-model.ts";
import type { Refusal } from "./refusals.ts";

/** The label the swarm sets on each task's container (`docker service`, `docker stack`). */
export const SWARM_TASK_LABEL = "com.docker.swarm.task.id";

/**
 * Docker Swarm task containers. The swarm keeps a service at its replica count: a task container that
 * stops is replaced at once by a new one on the same volumes, so a cold backup's `docker stop` would
 * have the data read while the new task writes it, and the old container started again beside it. A
 * unit whose plan stops one is refused whole (`refusals.ts`); one that stops nothing (live, dump,
 * `stop = false`) backs it up as any other. An image setting the label itself is refused too: wrongly,
 * but never read live.
 */
export function swarmRefusal(unit: string, containers: readonly ContainerPlan[]): Refusal | undefined {
  const tasks = containers.filter((c) => c.action === "stop" && c.swarmTask).map((c) => c.name);
  if (tasks.length === 0) return undefined;
  const names = tasks.join(", ");
  const next = `back it up without stopping it ([units.${unit}] stop = false, or mode = "dump" for a database; label kopi-docka.stop=false)`;
  return {
    culprits: tasks,
    reason:
      `${names} ${tasks.length > 1 ? "are Docker Swarm tasks" : "is a Docker Swarm task"} (label ` +
      `${SWARM_TASK_LABEL}): the swarm replaces a stopped task with a new container on the same data, ` +
      `so it cannot be stopped for a cold copy; nothing of unit ${unit} is stopped or backed up. ` +
      `Instead ${next}`,
    short: `${names}: swarm task`,
    because: "a Docker Swarm task: the swarm would replace it once stopped",
    next,
  };
}

import { startOrder } from "../containers/start-order.ts";
import { COMPOSE, parseDependsOnLabel } from "../discovery/labels.ts";
import type { ComposeFacts } from "./compose-facts.ts";
import type { ContainerState } from "./types.ts";

/**
 * The containers a restore stops, in the order it stops them: the reverse of the order it starts them
 * again, which is backup's (`containers/start-order.ts`), so a container whose network or volumes
 * another provides starts after it. A service of the restored project (`project`) depends on what its
 * v2 label names, else on what the point's compose files say (`facts`, compose v1 writes no label);
 * another container only on what docker records of it.
 */
export function stopOrder(
  containers: readonly ContainerState[],
  project: string | undefined,
  facts: ComposeFacts | undefined,
): ContainerState[] {
  return startOrder(containers, (c) => {
    const labels = c.labels ?? {};
    const service = labels[COMPOSE.service];
    const ours = project !== undefined && labels[COMPOSE.project] === project && service !== undefined;
    const label = labels[COMPOSE.dependsOn];
    const dependsOn = !ours
      ? []
      : label !== undefined
        ? parseDependsOnLabel(label)
        : ownEntry(facts?.dependsOn, service);
    return {
      id: c.id,
      name: c.name,
      database: c.database === true,
      ...(ours ? { service } : {}),
      dependsOn,
      needs: c.needs ?? [],
    };
  }).reverse();
}

/** `record[key]` when it is the record's own: a service name is untrusted (`constructor`). */
function ownEntry(record: Record<string, string[]> | undefined, key: string): string[] {
  return record && Object.hasOwn(record, key) ? (record[key] ?? []) : [];
}

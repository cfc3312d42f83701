import type { ContainerInspect } from "../docker/schemas.ts";

/**
 * What puts one container before another when a unit's containers start again: backup's start after a
 * cold window and restore's start after an in-place restore read the same facts, so both start a
 * unit in one order (and stop it in the reverse).
 */
export interface OrderFacts {
  id: string;
  name: string;
  /** A database goes first among the containers free to go. */
  database: boolean;
  /** Its compose service, and the services it depends on (`depends_on`, or what the YAML implies). */
  service?: string;
  dependsOn: readonly string[];
  /**
   * Containers it cannot start without, running (`containersNeeded`): by id, id prefix or name, as
   * docker wrote them.
   */
  needs: readonly string[];
}

/**
 * The containers it joins, as docker resolves them at `docker start`: the one whose network it uses
 * (`network_mode: container:X`, which compose writes for `service:X`) and those it takes volumes from
 * (`volumes_from`, each `X[:ro|:rw]`). Docker refuses to start it while the first one is stopped.
 */
export function containersNeeded(inspect: ContainerInspect): string[] {
  const host = inspect.HostConfig;
  const mode = host?.NetworkMode ?? "";
  const network = mode.startsWith("container:") ? [mode.slice("container:".length)] : [];
  const volumes = (host?.VolumesFrom ?? []).map((v) => v.replace(/:(ro|rw)$/, ""));
  return [...network, ...volumes].filter((r) => r.length > 0);
}

/**
 * `items` in start order: each after the containers it depends on (a compose service's `depends_on`,
 * a container whose network or volumes it uses); among the ones free to go, databases first, then by
 * name. A dependency outside `items` changes nothing. A cycle (compose refuses those, labels and
 * `docker run` may not) never hangs: the first by that tie-break goes, and the rest follow the rule.
 */
export function startOrder<T>(items: readonly T[], factsOf: (t: T) => OrderFacts): T[] {
  const facts = new Map(items.map((t) => [t, factsOf(t)]));
  const f = (t: T) => facts.get(t) as OrderFacts;
  const rank = (t: T) => `${f(t).database ? "0" : "1"}${f(t).name}`;
  const byService = new Map<string, T[]>();
  for (const t of items) {
    const service = f(t).service;
    if (service !== undefined) byService.set(service, [...(byService.get(service) ?? []), t]);
  }
  const deps = new Map(
    items.map((t) => {
      const viaCompose = f(t).dependsOn.flatMap((s) => byService.get(s) ?? []);
      const viaDocker = f(t).needs.flatMap((ref) => resolveRef(ref, items, f) ?? []);
      return [t, new Set([...viaCompose, ...viaDocker].filter((d) => d !== t))];
    }),
  );
  const done: T[] = [];
  let left = [...items].sort((a, b) => rank(a).localeCompare(rank(b)));
  while (left.length > 0) {
    const ready = left.find((t) => [...(deps.get(t) ?? [])].every((d) => done.includes(d))) ?? left[0];
    if (ready === undefined) break;
    done.push(ready);
    left = left.filter((t) => t !== ready);
  }
  return done;
}

/** The item docker would take `ref` for: the full id, else the name, else the one id it begins. */
function resolveRef<T>(ref: string, items: readonly T[], f: (t: T) => OrderFacts): T | undefined {
  const name = ref.replace(/^\//, "");
  const exact = items.find((t) => f(t).id === ref) ?? items.find((t) => f(t).name === name);
  if (exact !== undefined) return exact;
  const prefixed = items.filter((t) => f(t).id.startsWith(ref));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

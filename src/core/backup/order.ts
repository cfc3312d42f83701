import type { Config } from "../../config/schema.ts";
import type { ContainerInfo } from "../discovery/model.ts";
import type { ContainerPlan } from "./plan-model.ts";

/** Label that sets one container's `docker stop` timeout in seconds. */
export const STOP_TIMEOUT_LABEL = "kopi-docka.stop-timeout";

/**
 * Containers in start order: a compose service after the services it depends on; among the ones free to
 * go, databases first, then by name. Stopping walks this backwards, so databases stop last. A
 * dependency cycle (compose refuses those, labels may not) falls back to the same tie-break.
 */
export function startOrder(containers: readonly ContainerInfo[]): ContainerInfo[] {
  const rank = (c: ContainerInfo) => `${c.database ? "0" : "1"}${c.name}`;
  const byService = new Map<string, ContainerInfo[]>();
  for (const c of containers) {
    if (!c.compose) continue;
    byService.set(c.compose.service, [...(byService.get(c.compose.service) ?? []), c]);
  }
  const deps = new Map(
    containers.map((c) => [
      c,
      new Set((c.compose?.dependsOn ?? []).flatMap((s) => byService.get(s) ?? []).filter((d) => d !== c)),
    ]),
  );
  const done: ContainerInfo[] = [];
  let left = [...containers].sort((a, b) => rank(a).localeCompare(rank(b)));
  while (left.length > 0) {
    const ready = left.find((c) => [...(deps.get(c) ?? [])].every((d) => done.includes(d))) ?? left[0];
    if (!ready) break;
    done.push(ready);
    left = left.filter((c) => c !== ready);
  }
  return done;
}

/** Where a container's stop timeout comes from: its label, the unit override, its own setting, the global one. */
export function stopTimeout(
  c: ContainerInfo,
  unitTimeout: number | undefined,
  config: Config,
): Pick<ContainerPlan, "stopTimeout" | "stopTimeoutFrom"> {
  const label = Number.parseInt(c.labels[STOP_TIMEOUT_LABEL] ?? "", 10);
  if (Number.isInteger(label) && label > 0) return { stopTimeout: label, stopTimeoutFrom: "label" };
  if (unitTimeout !== undefined) return { stopTimeout: unitTimeout, stopTimeoutFrom: "unit" };
  if (c.stopTimeout !== undefined && c.stopTimeout > 0)
    return { stopTimeout: c.stopTimeout, stopTimeoutFrom: "container" };
  return { stopTimeout: config.backup.stop_timeout, stopTimeoutFrom: "global" };
}

/** True when the container defines a healthcheck (and did not disable it with NONE). */
export function hasHealthcheck(c: ContainerInfo): boolean {
  if (c.health) return true;
  const hc = c.inspect.Config.Healthcheck;
  return Boolean(hc?.Test?.length && hc.Test[0] !== "NONE");
}

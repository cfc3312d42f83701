import { type Config, MAX_STOP_TIMEOUT_S } from "../../config/schema.ts";
import { containersNeeded, startOrder as orderContainers } from "../containers/start-order.ts";
import { KD } from "../discovery/labels.ts";
import type { ContainerInfo } from "../discovery/model.ts";
import type { ContainerPlan } from "./plan-model.ts";

/**
 * A unit's containers in start order (`containers/start-order.ts`, which restore follows too): after
 * the compose services each depends on and the containers whose network or volumes it uses; databases
 * first, then by name. Stopping walks this backwards, so databases stop last.
 */
export function startOrder(containers: readonly ContainerInfo[]): ContainerInfo[] {
  return orderContainers(containers, (c) => ({
    id: c.id,
    name: c.name,
    database: Boolean(c.database),
    ...(c.compose ? { service: c.compose.service } : {}),
    dependsOn: c.compose?.dependsOn ?? [],
    needs: containersNeeded(c.inspect),
  }));
}

/**
 * A container's `docker stop` timeout, seconds, and where it comes from: the unit's `stop_timeout`
 * (the admin's word, over anything a container carries), the `kopi-docka.stop-timeout` label, the
 * container's own `StopTimeout`, the global `backup.stop_timeout`. Each bounded by `MAX_STOP_TIMEOUT_S`:
 * a label not a whole number in 1…3600 is ignored with a warning (the next source decides); a larger
 * `StopTimeout` is capped with a warning.
 */
export function stopTimeout(
  c: ContainerInfo,
  unitTimeout: number | undefined,
  config: Config,
): Pick<ContainerPlan, "stopTimeout" | "stopTimeoutFrom" | "stopTimeoutWarning"> {
  if (unitTimeout !== undefined) return { stopTimeout: unitTimeout, stopTimeoutFrom: "unit" };
  const raw = c.stopTimeoutLabel;
  const label = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (label >= 1 && label <= MAX_STOP_TIMEOUT_S) return { stopTimeout: label, stopTimeoutFrom: "label" };
  const fallback = fromContainerOrGlobal(c, config);
  if (raw === undefined) return fallback;
  // Shortened: the value is the container's, any length.
  const shown = JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);
  const warning =
    `${c.name}: label ${KD.stopTimeout}=${shown} ignored (not a whole number of seconds from 1 to ` +
    `${MAX_STOP_TIMEOUT_S}); stop timeout ${fallback.stopTimeout}s (${fallback.stopTimeoutFrom})`;
  return {
    ...fallback,
    stopTimeoutWarning: [warning, fallback.stopTimeoutWarning].filter(Boolean).join("; "),
  };
}

function fromContainerOrGlobal(
  c: ContainerInfo,
  config: Config,
): Pick<ContainerPlan, "stopTimeout" | "stopTimeoutFrom" | "stopTimeoutWarning"> {
  const own = c.stopTimeout;
  if (own === undefined || own <= 0)
    return { stopTimeout: config.backup.stop_timeout, stopTimeoutFrom: "global" };
  if (own <= MAX_STOP_TIMEOUT_S) return { stopTimeout: own, stopTimeoutFrom: "container" };
  return {
    stopTimeout: MAX_STOP_TIMEOUT_S,
    stopTimeoutFrom: "container",
    stopTimeoutWarning: `${c.name}: its own StopTimeout ${own}s capped at ${MAX_STOP_TIMEOUT_S}s`,
  };
}

/** True when the container defines a healthcheck (and did not disable it with NONE). */
export function hasHealthcheck(c: ContainerInfo): boolean {
  if (c.health) return true;
  const hc = c.inspect.Config.Healthcheck;
  return Boolean(hc?.Test?.length && hc.Test[0] !== "NONE");
}

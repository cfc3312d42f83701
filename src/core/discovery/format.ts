import type { ContainerInfo, Discovery } from "./model.ts";

export const REDACTED = "***REDACTED***";

/** `inspect.Config.Env` with every value replaced: the keys say what is configured, never the secret. */
function redactInspect(inspect: Record<string, unknown>): Record<string, unknown> {
  const config = inspect.Config as { Env?: unknown } | undefined;
  if (!config || !Array.isArray(config.Env)) return inspect;
  const env = config.Env.map((e) => (typeof e === "string" ? `${e.split("=", 1)[0]}=${REDACTED}` : e));
  return { ...inspect, Config: { ...config, Env: env } };
}

/** The Discovery as `list --json` prints it: no `env`, no environment values inside `inspect`. */
export function discoveryForJson(d: Discovery): unknown {
  const container = ({ env: _env, inspect, ...rest }: ContainerInfo) => ({
    ...rest,
    inspect: redactInspect(inspect),
  });
  return { ...d, units: d.units.map((u) => ({ ...u, containers: u.containers.map(container) })) };
}

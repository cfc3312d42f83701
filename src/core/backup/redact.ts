/** Env keys whose values never leave memory: matched on the key, case-insensitive. */
export const SECRET_KEY_PATTERN = /PASS|SECRET|TOKEN|KEY|CREDENTIAL|API|AUTH/i;
export const REDACTED = "***REDACTED***";

/** `KEY=value` entries with secret-looking keys rewritten to `KEY=***REDACTED***`. */
export function redactEnvList(env: readonly string[]): string[] {
  return env.map((entry) => {
    const i = entry.indexOf("=");
    const key = i < 0 ? entry : entry.slice(0, i);
    return i >= 0 && SECRET_KEY_PATTERN.test(key) ? `${key}=${REDACTED}` : entry;
  });
}

/** A deep copy of a `docker inspect` object with `Config.Env` redacted; the input is left alone. */
export function redactInspect(inspect: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(inspect) as Record<string, unknown> & { Config?: { Env?: unknown } };
  if (copy.Config && Array.isArray(copy.Config.Env)) {
    copy.Config.Env = redactEnvList(copy.Config.Env.filter((e): e is string => typeof e === "string"));
  }
  return copy;
}

/** What a secret value is replaced with wherever one would be written or shown. */
export const REDACTED = "***REDACTED***";

/** Env keys whose values never leave memory: matched on the key, case-insensitive. */
export const SECRET_KEY_PATTERN = /PASS|SECRET|TOKEN|KEY|CREDENTIAL|API|AUTH/i;

/** `KEY=value` entries with secret-looking keys rewritten to `KEY=***REDACTED***`. */
export function redactEnvList(env: readonly string[]): string[] {
  return env.map((entry) => {
    const i = entry.indexOf("=");
    const key = i < 0 ? entry : entry.slice(0, i);
    return i >= 0 && SECRET_KEY_PATTERN.test(key) ? `${key}=${REDACTED}` : entry;
  });
}

/**
 * A deep copy of a `docker inspect` object with `Config.Env` redacted; the input is left alone.
 * `env: "all"` replaces every env value (what `list --json` prints: the keys say what is configured).
 */
export function redactInspect(
  inspect: Record<string, unknown>,
  o: { env?: "secrets" | "all" } = {},
): Record<string, unknown> {
  const copy = structuredClone(inspect) as Record<string, unknown> & { Config?: { Env?: unknown } };
  if (copy.Config && Array.isArray(copy.Config.Env)) {
    const env = copy.Config.Env.filter((e): e is string => typeof e === "string");
    copy.Config.Env =
      o.env === "all" ? env.map((e) => `${e.split("=", 1)[0]}=${REDACTED}`) : redactEnvList(env);
  }
  return copy;
}

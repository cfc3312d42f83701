import type { RestorePlan } from "./types.ts";

/**
 * A restore plan as `--dry-run --json` shows it: each container's environment as its variable names
 * only. The values go to docker in a private env file at the start, and some were never redacted
 * (a name or shape the redactor does not know): stdout is no place for them.
 */
export function planForJson(plan: RestorePlan): RestorePlan {
  if (plan.start?.kind !== "run") return plan;
  const containers = plan.start.containers.map((c) => ({
    ...c,
    env: c.env.map((e) => e.split("=", 1)[0] ?? ""),
  }));
  return { ...plan, start: { ...plan.start, containers } };
}

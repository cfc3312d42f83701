import type { ContainerPlan, UnitPlan } from "./plan-model.ts";
import type { UnitResult } from "./result.ts";

/**
 * One reason a unit must not be backed up at all, found in the plan (pure): a container `docker stop`
 * would destroy (`auto-remove.ts`) or that something else would replace at once (`swarm.ts`), or one a
 * failed restore holds stopped on half-restored data (`held.ts`).
 */
export interface Refusal {
  /** The containers that cause it. */
  culprits: string[];
  /** Why the unit is refused, in full (`UnitPlan.refused`). */
  reason: string;
  /** Short, for the other containers' lines: "solo started with --rm". */
  short: string;
  /** Why a culprit is not stopped or read (its container line). */
  because: string;
  /** What a person does about it: the failed unit's alert says it. */
  next: string;
}

/**
 * The unit's containers once `refusals` apply: none of them stops (a half-stopped unit is no cold copy
 * either), each says why, and the unit is `refused` with every reason. Unchanged when there is none.
 */
export function applyRefusals(
  containers: readonly ContainerPlan[],
  found: readonly (Refusal | undefined)[],
): { containers: ContainerPlan[]; refused?: string; refusedBy?: UnitPlan["refusedBy"] } {
  const refusals = found.filter((r): r is Refusal => r !== undefined);
  const first = refusals[0];
  if (!first) return { containers: [...containers] };
  const shorts = refusals.map((r) => r.short).join("; ");
  return {
    refused: refusals.map((r) => r.reason).join(". Also: "),
    refusedBy: { containers: [...new Set(refusals.flatMap((r) => r.culprits))], next: first.next },
    containers: containers.map((c) => {
      const own = refusals.find((r) => r.culprits.includes(c.name));
      const action = c.action === "stop" ? "kept_running" : c.action;
      if (own) return { ...c, action, reason: own.because };
      if (c.action !== "stop") return c;
      return { ...c, action, reason: `not stopped: the unit is refused (${shorts})` };
    }),
  };
}

/** The record of a refused unit: failed at its stop with the plan's reason; nothing stopped or read. */
export function refusedResult(plan: UnitPlan, at: Date): UnitResult {
  const item = plan.refusedBy?.containers[0];
  const next = plan.refusedBy?.next;
  return {
    name: plan.name,
    backupId: plan.backupId,
    timestamp: at.toISOString(),
    status: "failed",
    sources: [],
    stopped: [],
    restartFailed: [],
    errors: [
      {
        phase: "stop",
        ...(item ? { item } : {}),
        message: plan.refused ?? "refused",
        ...(next ? { next } : {}),
      },
    ],
    durationMs: 0,
  };
}

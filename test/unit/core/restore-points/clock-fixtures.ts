import type { ManagedPoint } from "../../../../src/core/restore-points/groups.ts";
import type { ExpirePlan } from "../../../../src/core/restore-points/plan.ts";

// What the clock-step tests share: one unit's points on host "h" under the default retention.

/** The default [retention]: 10 latest, 7 daily, 4 weekly, 12 monthly, 3 annual. */
export const DEFAULT = { latest: 10, hourly: 0, daily: 7, weekly: 4, monthly: 12, annual: 3 };
export const DAY = 86_400_000;
/** The last night of a test's history: its run `r0`, 03:00 UTC. */
export const LAST = Date.parse("2026-12-04T03:00:00Z");

/** Unit `u`'s complete point of run `runId`, dated `at`. */
export const point = (runId: string, at: number): ManagedPoint => ({
  key: `u@${runId}`,
  unit: "u",
  host: "h",
  backupId: runId,
  runId,
  timestamp: new Date(at).toISOString(),
  undo: false,
  snapshots: [
    { id: `s-${runId}`, type: "recipe", label: "recipe", sizeBytes: 1, incomplete: false, pins: [] },
  ],
  pins: [],
  complete: true,
});

/** Night `n` after the history, its real time. */
export const real = (n: number) => LAST + n * DAY;
export const keys = (plan: ExpirePlan) => plan.remove.map((p) => p.key);

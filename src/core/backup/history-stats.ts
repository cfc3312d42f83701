import type { RunRecord } from "./result.ts";
import { stampedAhead } from "./run-records.ts";

/** Smallest, average and largest of some durations, in ms; absent when there were none. */
export interface DurationSpread {
  minMs: number;
  avgMs: number;
  maxMs: number;
}

/** How one unit fared across the runs `history --stats` looked at. */
export interface UnitStats {
  unit: string;
  /** Runs that included the unit (skipped ones too). */
  runs: number;
  ok: number;
  failed: number;
  /** Planned but never reached (a signal cut the run short, or it was skipped). */
  skipped: number;
  /** Over the runs where the unit was backed up or tried (not skipped). */
  duration?: DurationSpread;
  /** From the first `docker stop` until the containers ran again; over runs that stopped any. */
  coldWindow?: DurationSpread;
  /** The latest run not stamped ahead of the clock ("" when there is none). */
  lastRunAt: string;
  lastOkAt?: string;
  /**
   * Runs stamped later than now (a clock set ahead, since corrected), counted above but never taken
   * as the last run or the last success: the latest one's start, and how many.
   */
  ahead?: { runs: number; latestAt: string };
}

function spread(values: readonly number[]): DurationSpread | undefined {
  if (values.length === 0) return undefined;
  const sum = values.reduce((a, b) => a + b, 0);
  return { minMs: Math.min(...values), avgMs: Math.round(sum / values.length), maxMs: Math.max(...values) };
}

/** Per-unit statistics over `runs` (any order) as of `now`, sorted by unit name. Pure. */
export function historyStats(runs: readonly RunRecord[], now: Date): UnitStats[] {
  const byUnit = new Map<string, { run: RunRecord; unit: RunRecord["units"][number] }[]>();
  for (const run of runs) {
    for (const unit of run.units) {
      const list = byUnit.get(unit.name) ?? [];
      list.push({ run, unit });
      byUnit.set(unit.name, list);
    }
  }
  return [...byUnit.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, seen]) => {
      const tried = seen.filter((s) => s.unit.status !== "skipped");
      const cold = seen.flatMap((s) => (s.unit.coldWindowMs === undefined ? [] : [s.unit.coldWindowMs]));
      const byTime = [...seen].sort((a, b) => a.run.startedAt.localeCompare(b.run.startedAt));
      const ahead = byTime.filter((s) => stampedAhead(s.run, now));
      const past = byTime.filter((s) => !stampedAhead(s.run, now));
      const lastOk = past.filter((s) => s.unit.status === "ok").at(-1);
      const stats: UnitStats = {
        unit: name,
        runs: seen.length,
        ok: seen.filter((s) => s.unit.status === "ok").length,
        failed: seen.filter((s) => s.unit.status === "failed").length,
        skipped: seen.length - tried.length,
        lastRunAt: past.at(-1)?.run.startedAt ?? "",
      };
      const duration = spread(tried.map((s) => s.unit.durationMs));
      const coldWindow = spread(cold);
      return {
        ...stats,
        ...(duration ? { duration } : {}),
        ...(coldWindow ? { coldWindow } : {}),
        ...(lastOk ? { lastOkAt: lastOk.run.startedAt } : {}),
        ...(ahead.length
          ? { ahead: { runs: ahead.length, latestAt: ahead.at(-1)?.run.startedAt ?? "" } }
          : {}),
      };
    });
}

import { UsageError } from "../errors.ts";
import type { RunRecord } from "./result.ts";
import { readRunRecords } from "./run-records.ts";

/** Which past runs `history` shows. */
export interface HistoryFilter {
  /** Only runs that included this unit; their other units are left out. */
  unit?: string;
  /** Only runs where something failed. */
  failed?: boolean;
  /** At most this many runs (a positive whole number, as given on the command line). */
  last?: string;
}

/** Past runs, newest first, filtered. Throws a `UsageError` for a `last` that is not a positive number. */
export function readHistory(runsDir: string, filter: HistoryFilter): RunRecord[] {
  const last = filter.last === undefined ? undefined : Number.parseInt(filter.last, 10);
  if (last !== undefined && !(last > 0)) throw new UsageError("--last takes a positive number");
  return selectRuns(readRunRecords(runsDir).reverse(), { ...filter, last });
}

/** The pure part of `readHistory`: `runs` in the order given. */
export function selectRuns(
  runs: RunRecord[],
  filter: { unit?: string; failed?: boolean; last?: number },
): RunRecord[] {
  let out = runs;
  if (filter.unit) {
    out = out
      .map((r) => ({ ...r, units: r.units.filter((u) => u.name === filter.unit) }))
      .filter((r) => r.units.length > 0);
  }
  if (filter.failed) out = out.filter((r) => r.units.some((u) => u.status !== "ok") || r.status !== "ok");
  return out.slice(0, filter.last);
}

import { AppError, UsageError } from "../errors.ts";
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
  /** Only runs started at or after this time: an ISO date or time, or an age such as `7d`, `12h`. */
  since?: string;
}

/**
 * Past runs, newest first, filtered; a file that is no run record is left out, told through `warn`.
 * Throws a `UsageError` for a `last` or `since` it cannot read.
 */
export function readHistory(
  runsDir: string,
  filter: HistoryFilter,
  warn: (line: string) => void,
  now = new Date(),
): RunRecord[] {
  const last = filter.last === undefined ? undefined : Number.parseInt(filter.last, 10);
  if (last !== undefined && !(last > 0)) throw new UsageError("--last takes a positive number");
  const since = filter.since === undefined ? undefined : parseSince(filter.since, now);
  return selectRuns(readRunRecords(runsDir, warn).reverse(), { ...filter, last, since });
}

/** One run in full, by its id (or a unique prefix of it). */
export function readRun(runsDir: string, id: string, warn: (line: string) => void): RunRecord {
  const runs = readRunRecords(runsDir, warn);
  const exact = runs.find((r) => r.runId === id);
  if (exact) return exact;
  const matches = runs.filter((r) => r.runId.startsWith(id));
  if (matches.length === 1) return matches[0] as RunRecord;
  if (matches.length > 1) {
    throw new UsageError(
      `run id ${id} is ambiguous: ${matches.map((r) => r.runId).join(", ")}`,
      "give more of the id",
    );
  }
  throw new AppError("not_found", `no run record ${id}`, { hint: "`kopi-docka history` lists the runs" });
}

const AGE = /^(\d+)([dhm])$/;
const AGE_MS = { d: 86_400_000, h: 3_600_000, m: 60_000 } as const;

/** `2026-01-31`, `2026-01-31T12:00:00Z`, or an age (`7d`, `12h`, `30m`) before `now`. */
export function parseSince(value: string, now: Date): Date {
  const age = AGE.exec(value.trim());
  if (age) return new Date(now.getTime() - Number(age[1]) * AGE_MS[age[2] as keyof typeof AGE_MS]);
  const iso = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
  const at = iso.test(value.trim()) ? new Date(value.trim()) : new Date(Number.NaN);
  if (Number.isNaN(at.getTime())) {
    throw new UsageError(
      `--since ${value}: not a date`,
      "write a date (2026-01-31), a time (2026-01-31T12:00:00Z) or an age (7d, 12h, 30m)",
    );
  }
  return at;
}

/** The pure part of `readHistory`: `runs` in the order given. */
export function selectRuns(
  runs: RunRecord[],
  filter: { unit?: string; failed?: boolean; last?: number; since?: Date },
): RunRecord[] {
  let out = runs;
  if (filter.since) {
    const since = filter.since.getTime();
    out = out.filter((r) => Date.parse(r.startedAt) >= since);
  }
  if (filter.unit) {
    out = out
      .map((r) => ({ ...r, units: r.units.filter((u) => u.name === filter.unit) }))
      .filter((r) => r.units.length > 0);
  }
  if (filter.failed) out = out.filter((r) => r.units.some((u) => u.status !== "ok") || r.status !== "ok");
  return out.slice(0, filter.last);
}

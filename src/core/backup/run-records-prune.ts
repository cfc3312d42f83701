import { unlinkSync } from "node:fs";
import { errorMessage } from "../caught.ts";
import type { ManagedPoint } from "../restore-points/groups.ts";
import { type RunFile, scanRunFiles } from "./run-records.ts";

/**
 * How many run records stay whatever their age, the age past which older ones may go, and how long
 * before the host's oldest restore point they must have started. An hourly timer writes ~8 800 a
 * year, each read by every run: the newest thousand are kept, every record of the last 400 days (a
 * year of `history --since`, the last year's runs for `--stats`), and every record retention's clock
 * evidence still reads (`clock-jumps.ts`, `clock-back.ts`).
 */
export const RUN_RECORD_LIMITS = { count: 1000, days: 400, marginDays: 30 };

const DAY_MS = 86_400_000;

/** What the pruning after a run judges by. */
export interface PruneScope {
  /** This run's record: never removed. */
  keep: string;
  now: Date;
  /** Whose points bound the records: this host. */
  host: string;
  /** The points retention left in the repository after its expiry (`expireAfter`), every host's. */
  points: readonly Pick<ManagedPoint, "host" | "timestamp">[];
}

/**
 * The run records to remove: those before the newest `limits.count` (`runs` oldest first, as
 * `scanRunFiles` gives them) that started more than `limits.days` before `now` and more than
 * `limits.marginDays` before `host`'s oldest point left. Retention reads this host's points and
 * records as one series of dates (`clockJumps`): the records among and after the points are what show
 * a gap between two points (a year, under `annual`) to be nightly runs and not a clock set ahead, so
 * none of them goes, however old; the margin keeps the runs just before the oldest point too, whose
 * gaps set the cadence the first gaps after it are judged by. No point of `host` (or no date that
 * parses): nothing goes. Never `keep`, nor a file that is no run record (it is not among `runs`; the
 * scan's reader warns of it). Pure.
 */
export function runRecordsToPrune(
  runs: readonly RunFile[],
  scope: PruneScope,
  limits = RUN_RECORD_LIMITS,
): string[] {
  const oldest = scope.points
    .filter((p) => p.host === scope.host)
    .map((p) => Date.parse(p.timestamp))
    .filter(Number.isFinite)
    .reduce((a, t) => Math.min(a, t), Number.POSITIVE_INFINITY);
  if (oldest === Number.POSITIVE_INFINITY) return [];
  const before = Math.min(scope.now.getTime() - limits.days * DAY_MS, oldest - limits.marginDays * DAY_MS);
  return runs
    .slice(0, Math.max(0, runs.length - limits.count))
    .filter((r) => r.file !== scope.keep && Date.parse(r.record.startedAt) < before)
    .map((r) => r.file);
}

/**
 * Removes the run records `runRecordsToPrune` names, after the run wrote `scope.keep`, its own (under
 * the host lock: no other run writes, and no point goes, meanwhile). A record that cannot be removed
 * stays: one warning for all of them, never a failed run. Returns the files removed.
 */
export function pruneRunRecords(
  runsDir: string,
  scope: PruneScope,
  log: { info: (line: string) => void; warn: (line: string) => void },
  remove: (file: string) => void = unlinkSync,
): string[] {
  const removed: string[] = [];
  const failed: string[] = [];
  for (const file of runRecordsToPrune(scanRunFiles(runsDir).runs, scope)) {
    try {
      remove(file);
      removed.push(file);
    } catch (e) {
      // Gone already (moved away by hand meanwhile): what this was to do is done.
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") failed.push(`${file} (${errorMessage(e)})`);
    }
  }
  const { count, days, marginDays } = RUN_RECORD_LIMITS;
  if (removed.length)
    log.info(
      `removed ${removed.length} run record(s) from ${runsDir}: older than the newest ${count}, than ${days} days and than ${marginDays} days before this host's oldest restore point`,
    );
  if (failed.length)
    log.warn(
      `${failed.length} old run record(s) not removed, first ${failed[0]}: they stay, the next run tries again`,
    );
  return removed;
}

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunRecord } from "../../../../src/core/backup/result.ts";
import { pruneRunRecords, RUN_RECORD_LIMITS } from "../../../../src/core/backup/run-records-prune.ts";
import { clockSteps } from "../../../../src/core/restore-points/clock-back.ts";
import { readClockEvidence } from "../../../../src/core/restore-points/clock-evidence.ts";
import { planExpire } from "../../../../src/core/restore-points/plan.ts";
import { tempDir } from "../../../helpers/env.ts";
import { DAY, DEFAULT, point } from "../restore-points/clock-fixtures.ts";
import { emptyRunRecord } from "./fixtures.ts";

// Retention reads this host's points and run records as one series of dates: the pruning must never
// leave a gap in it that reads as a clock jump (`clockJumps`) or a clock set back (`clockSetBack`).

const NOW = new Date("2027-06-01T03:00:00.000Z");
/** Nightly runs at 03:00 UTC from 2023-01-01 to NOW: 1 613 nights, four and a half years. */
const FIRST = Date.parse("2023-01-01T03:00:00.000Z");
const NIGHTS = Math.round((NOW.getTime() - FIRST) / DAY) + 1;

const runId = (i: number) => `night-${String(i).padStart(5, "0")}`;

/** Night `i`'s record, numbered in order as `run-sequence.ts` numbers them. */
const record = (i: number): RunRecord =>
  emptyRunRecord(runId(i), new Date(FIRST + i * DAY).toISOString(), { sequence: i + 1 });

describe("the pruning leaves retention no clock step (the real `clockSteps`)", () => {
  let dir: { path: string; remove: () => void };
  let runs: string;
  beforeEach(() => {
    dir = tempDir("kd-run-prune-clock-");
    runs = join(dir.path, "runs");
    mkdirSync(runs);
    for (let i = 0; i < NIGHTS; i++) writeFileSync(join(runs, `${runId(i)}.json`), JSON.stringify(record(i)));
  });
  afterEach(() => dir.remove());

  test.each([3, 5])(
    "%i annual points over four and a half years of nightly records: 0 steps before and after",
    (annual) => {
      const paths = { runsDir: runs, stateDir: dir.path };
      const retention = { ...DEFAULT, annual };
      const nightly = Array.from({ length: NIGHTS }, (_, i) => point(runId(i), FIRST + i * DAY));
      // What retention leaves of a point a night, with every record there.
      const expired = planExpire(nightly, "h", retention, { now: NOW, clock: readClockEvidence(paths, "h") });
      expect(expired.held).toEqual([]);
      const left = nightly.filter((p) => !expired.remove.includes(p));
      const oldest = Date.parse(left[0]?.timestamp ?? "");
      // The last night of each year the annual slots reach: under 5 of them, past the newest thousand.
      expect(new Date(oldest).toISOString()).toBe(`${2027 - annual + 1}-12-31T03:00:00.000Z`);
      expect(clockSteps(left, "h", readClockEvidence(paths, "h"), NOW)).toEqual([]);

      const lines: string[] = [];
      const log = { info: (l: string) => lines.push(l), warn: (l: string) => lines.push(`WARN ${l}`) };
      const scope = { keep: join(runs, `${runId(NIGHTS - 1)}.json`), now: NOW, host: "h", points: left };
      const removed = pruneRunRecords(runs, scope, log);
      const after = readClockEvidence(paths, "h");
      expect(clockSteps(left, "h", after, NOW)).toEqual([]);
      // Retention the next night holds nothing either, and removes nothing it kept.
      const next = planExpire(left, "h", retention, { now: NOW, clock: after });
      expect(next.held).toEqual([]);
      expect(next.remove).toEqual([]);

      // Some records went: every one dated 30 days or less before the oldest point stays, and later ones.
      const bound = Math.min(oldest - RUN_RECORD_LIMITS.marginDays * DAY, NOW.getTime() - 400 * DAY);
      const gone = Array.from({ length: NIGHTS }, (_, i) => i).filter(
        (i) => i < NIGHTS - RUN_RECORD_LIMITS.count && FIRST + i * DAY < bound,
      );
      expect(gone.length).toBeGreaterThan(0);
      expect(removed).toEqual(gone.map((i) => join(runs, `${runId(i)}.json`)));
      expect(after.runs.size).toBe(NIGHTS - gone.length);
      expect(lines.filter((l) => l.startsWith("WARN"))).toEqual([]);
    },
  );
});

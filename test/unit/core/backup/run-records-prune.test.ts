import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunRecord } from "../../../../src/core/backup/result.ts";
import { type RunFile, scanRunRecords, writeRunRecord } from "../../../../src/core/backup/run-records.ts";
import {
  pruneRunRecords,
  RUN_RECORD_LIMITS,
  runRecordsToPrune,
} from "../../../../src/core/backup/run-records-prune.ts";
import { tempDir } from "../../../helpers/env.ts";
import { emptyRunRecord } from "./fixtures.ts";

const NOW = new Date("2027-06-01T00:00:00.000Z");
const DAY_MS = 86_400_000;

/** A record started `daysAgo` days before NOW (plus `i` seconds, so each has its own time). */
const record = (i: number, daysAgo: number): RunRecord =>
  emptyRunRecord(
    `run-${String(i).padStart(5, "0")}`,
    new Date(NOW.getTime() - daysAgo * DAY_MS + i * 1000).toISOString(),
  );

/** `n` run files oldest first, the first `old` of them started 500 days ago, the rest 10 days ago. */
const runFiles = (n: number, old: number): RunFile[] =>
  Array.from({ length: n }, (_, i) => {
    const r = record(i, i < old ? 500 : 10);
    return { file: `/runs/${r.runId}.json`, record: r };
  });

/** This host's oldest point left 20 days ago: every record over 400 days old is before it by the margin. */
const scope = (keep: string, points = [{ host: "h", timestamp: "2027-05-12T00:00:00.000Z" }]) => ({
  keep,
  now: NOW,
  host: "h",
  points,
});

describe("which run records go (pure)", () => {
  test("only those before the newest 1 000: 1 005 records all 500 days old, the 5 oldest go", () => {
    const runs = runFiles(1005, 1005);
    expect(runRecordsToPrune(runs, scope("/runs/this.json"))).toEqual(runs.slice(0, 5).map((r) => r.file));
    expect(runRecordsToPrune(runs.slice(0, 1000), scope("/runs/this.json"))).toEqual([]);
  });

  test("only those started more than 400 days ago: of 5 beyond the thousand, the 2 of 10 days ago stay", () => {
    const runs = runFiles(1005, 3);
    expect(runRecordsToPrune(runs, scope("/runs/this.json"))).toEqual(runs.slice(0, 3).map((r) => r.file));
    const edge = [record(0, 400), record(1, 401)].map((r) => ({ file: r.runId, record: r }));
    const limits = { ...RUN_RECORD_LIMITS, count: 0 };
    expect(runRecordsToPrune(edge, scope("x"), limits)).toEqual(["run-00001"]);
  });

  test("only those started over 30 days before this host's oldest point left: retention's clock reads the rest", () => {
    const runs = [560, 531, 529, 500, 480].map((days, i) => {
      const r = record(i, days);
      return { file: r.runId, record: r };
    });
    const limits = { ...RUN_RECORD_LIMITS, count: 0 };
    // The oldest point is that of 500 days ago: the records of 560 and 531 days ago go, not that of 529.
    const points = [
      { host: "h", timestamp: record(3, 500).startedAt },
      { host: "h", timestamp: "2027-05-31T00:00:00.000Z" },
      { host: "other", timestamp: record(0, 900).startedAt }, // another host's: its dates bound nothing here
      { host: "h", timestamp: "not a date" },
    ];
    expect(runRecordsToPrune(runs, scope("x", points), limits)).toEqual(["run-00000", "run-00001"]);
    // A point 29 days after the oldest record: that record is within the margin, all stay.
    const near = [{ host: "h", timestamp: record(0, 531).startedAt }];
    expect(runRecordsToPrune(runs, scope("x", near), limits)).toEqual([]);
  });

  test("no point of this host left (none, another host's only, no date that parses): nothing goes", () => {
    const runs = runFiles(1005, 1005);
    for (const points of [
      [],
      [{ host: "other", timestamp: NOW.toISOString() }],
      [{ host: "h", timestamp: "" }],
    ])
      expect(runRecordsToPrune(runs, scope("/runs/this.json", points))).toEqual([]);
  });

  test("this run's record stays, however old its date (a clock set back) and wherever it sorts", () => {
    const runs = runFiles(1005, 1005);
    const mine = runs[2]?.file ?? "";
    const gone = runRecordsToPrune(runs, scope(mine));
    expect(gone).toHaveLength(4);
    expect(gone).not.toContain(mine);
  });
});

describe("removing them from the runs directory", () => {
  let dir: { path: string; remove: () => void };
  let runs: string;
  beforeEach(() => {
    dir = tempDir("kd-run-prune-");
    runs = join(dir.path, "runs");
    mkdirSync(runs);
  });
  afterEach(() => dir.remove());

  /** 1 003 records, the 3 oldest 500 days old, a torn file and a note that is no record. */
  const fill = () => {
    for (let i = 0; i < 1003; i++) writeRunRecord(runs, record(i, i < 3 ? 500 : 10));
    writeFileSync(join(runs, "000-torn.json"), '{"runId":"r9"');
    writeFileSync(join(runs, "README"), "kept by hand");
  };

  test("the 3 old records go; the newest thousand, a file that is no record and anything else stay", () => {
    fill();
    const mine = join(runs, "run-01002.json");
    const lines: string[] = [];
    const log = { info: (l: string) => lines.push(l), warn: (l: string) => lines.push(`WARN ${l}`) };
    const removed = pruneRunRecords(runs, scope(mine), log);
    expect(removed).toEqual([0, 1, 2].map((i) => join(runs, `run-0000${i}.json`)));
    expect(lines).toEqual([
      `removed 3 run record(s) from ${runs}: older than the newest 1000, than 400 days and than 30 days before this host's oldest restore point`,
    ]);
    const { records, skipped } = scanRunRecords(runs);
    expect(records).toHaveLength(RUN_RECORD_LIMITS.count);
    expect(records[0]?.runId).toBe("run-00003");
    expect(skipped.map((s) => s.file)).toEqual([join(runs, "000-torn.json")]);
    expect(existsSync(join(runs, "README"))).toBe(true);
    expect(existsSync(mine)).toBe(true);
    // Bounded now: the next run removes nothing.
    expect(pruneRunRecords(runs, scope(mine), log)).toEqual([]);
    expect(readdirSync(runs)).toHaveLength(1002);
  });

  test("a record that cannot be removed is one warning, and no failure; one already gone is none", () => {
    fill();
    const lines: string[] = [];
    const log = { info: () => {}, warn: (l: string) => lines.push(l) };
    const remove = (file: string) => {
      const code = file.endsWith("run-00000.json") ? "ENOENT" : "EACCES";
      throw Object.assign(new Error(`${code}: no, ${file}`), { code });
    };
    expect(pruneRunRecords(runs, scope(join(runs, "run-01002.json")), log, remove)).toEqual([]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toStartWith(
      `2 old run record(s) not removed, first ${join(runs, "run-00001.json")} (EACCES`,
    );
  });
});

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSince, readHistory, readRun, selectRuns } from "../../../../src/core/backup/history.ts";
import { historyStats } from "../../../../src/core/backup/history-stats.ts";
import {
  lastLines,
  type RunRecord,
  STDERR_TAIL_LINES,
  stderrTailOf,
  type UnitResult,
} from "../../../../src/core/backup/result.ts";
import { writeRunRecord } from "../../../../src/core/backup/run-records.ts";
import { ProcessError } from "../../../../src/core/errors.ts";

const unit = (name: string, status: UnitResult["status"] = "ok"): UnitResult => ({
  name,
  backupId: `b-${name}`,
  timestamp: "2026-01-01T00:00:00Z",
  status,
  sources: [],
  stopped: [],
  restartFailed: [],
  errors: [],
  durationMs: 1,
});

const run = (runId: string, units: UnitResult[], status: RunRecord["status"] = "ok"): RunRecord => ({
  runId,
  version: "9.9.9",
  hostname: "h",
  scope: "standard",
  startedAt: `2026-01-0${runId.slice(1)}T00:00:00Z`,
  finishedAt: `2026-01-0${runId.slice(1)}T00:00:01Z`,
  durationMs: 1000,
  status,
  units,
  errors: [],
});

// Newest first, as `readHistory` hands them to `selectRuns`.
const runs = [
  run("r3", [unit("shop"), unit("blog", "failed")], "partial"),
  run("r2", [], "failed"),
  run("r1", [unit("shop"), unit("blog")]),
];

test.each<{ filter: Parameters<typeof selectRuns>[1]; want: [string, string[]][] }>([
  {
    filter: {},
    want: [
      ["r3", ["shop", "blog"]],
      ["r2", []],
      ["r1", ["shop", "blog"]],
    ],
  },
  {
    filter: { unit: "blog" },
    want: [
      ["r3", ["blog"]],
      ["r1", ["blog"]],
    ],
  },
  {
    filter: { failed: true },
    want: [
      ["r3", ["shop", "blog"]],
      ["r2", []],
    ],
  },
  { filter: { unit: "shop", failed: true }, want: [["r3", ["shop"]]] },
  { filter: { last: 1 }, want: [["r3", ["shop", "blog"]]] },
  { filter: { unit: "nope" }, want: [] },
])("selectRuns %o", ({ filter, want }) => {
  expect(selectRuns(runs, filter).map((r) => [r.runId, r.units.map((u) => u.name)])).toEqual(want);
});

const dir = mkdtempSync(join(tmpdir(), "kd-history-"));
/** Every file these tests write is a good record: a warning would be a bug. */
const noSkip = (line: string) => {
  throw new Error(`unexpected warning: ${line}`);
};
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("readHistory reads the run records newest first and applies --last", () => {
  for (const r of [...runs].reverse()) writeRunRecord(dir, r);
  expect(readHistory(dir, {}, noSkip).map((r) => r.runId)).toEqual(["r3", "r2", "r1"]);
  expect(readHistory(dir, { last: "2" }, noSkip).map((r) => r.runId)).toEqual(["r3", "r2"]);
});

test.each(["0", "-1", "x"])("readHistory: --last %p is a usage error", (last) => {
  expect(() => readHistory(dir, { last }, noSkip)).toThrow("--last takes a positive number");
});

test("--since: runs started at or after a date, a time or an age", () => {
  const now = new Date("2026-01-03T12:00:00Z");
  expect(readHistory(dir, { since: "2026-01-02" }, noSkip, now).map((r) => r.runId)).toEqual(["r3", "r2"]);
  expect(readHistory(dir, { since: "2026-01-02T00:00:01Z" }, noSkip, now).map((r) => r.runId)).toEqual([
    "r3",
  ]);
  expect(readHistory(dir, { since: "1d" }, noSkip, now).map((r) => r.runId)).toEqual(["r3"]);
  expect(readHistory(dir, { since: "36h" }, noSkip, now).map((r) => r.runId)).toEqual(["r3", "r2"]);
  expect(parseSince("30m", now).toISOString()).toBe("2026-01-03T11:30:00.000Z");
});

test.each(["yesterday", "2026-13-45", "7w", "", "2026-01-01; rm"])(
  "--since %p is a usage error naming the forms",
  (since) => {
    expect(() => readHistory(dir, { since }, noSkip)).toThrow(/--since .*not a date/);
  },
);

test("readRun: by full id or unique prefix; unknown is not_found, ambiguous a usage error", () => {
  expect(readRun(dir, "r2", noSkip).runId).toBe("r2");
  writeRunRecord(dir, run("r4", [unit("shop")]));
  expect(() => readRun(dir, "r", noSkip)).toThrow(/ambiguous: .*r1.*r2/);
  expect(() => readRun(dir, "zz", noSkip)).toThrow(expect.objectContaining({ code: "not_found" }));
});

test("historyStats: per unit runs, ok, failed, skipped, duration and cold window spreads, last ok", () => {
  const u = (name: string, status: UnitResult["status"], durationMs: number, coldWindowMs?: number) => ({
    ...unit(name, status),
    durationMs,
    ...(coldWindowMs !== undefined ? { coldWindowMs } : {}),
  });
  const stats = historyStats(
    [
      run("r1", [u("shop", "ok", 1000, 400), u("blog", "ok", 50)]),
      run("r2", [u("shop", "failed", 3000, 800)], "failed"),
      run("r3", [u("shop", "skipped", 0)], "failed"),
      run("r4", [u("shop", "ok", 2000, 600)]),
    ],
    new Date("2026-02-01T00:00:00Z"),
  );
  expect(stats).toEqual([
    {
      unit: "blog",
      runs: 1,
      ok: 1,
      failed: 0,
      skipped: 0,
      duration: { minMs: 50, avgMs: 50, maxMs: 50 },
      lastRunAt: "2026-01-01T00:00:00Z",
      lastOkAt: "2026-01-01T00:00:00Z",
    },
    {
      unit: "shop",
      runs: 4,
      ok: 2,
      failed: 1,
      skipped: 1,
      duration: { minMs: 1000, avgMs: 2000, maxMs: 3000 },
      coldWindow: { minMs: 400, avgMs: 600, maxMs: 800 },
      lastRunAt: "2026-01-04T00:00:00Z",
      lastOkAt: "2026-01-04T00:00:00Z",
    },
  ]);
  expect(historyStats([], new Date())).toEqual([]);
});

test("stderrTailOf: the last lines of a ProcessError, also as a cause; none for other errors", () => {
  const pe = new ProcessError({
    argv: ["kopia", "x"],
    exitCode: 1,
    signal: null,
    stderrTail: `${Array.from({ length: 15 }, (_, i) => `line ${i}`).join("\n")}\n\n`,
  });
  expect(stderrTailOf(pe).stderrTail?.split("\n")).toEqual(
    Array.from({ length: STDERR_TAIL_LINES }, (_, i) => `line ${i + 15 - STDERR_TAIL_LINES}`),
  );
  expect(stderrTailOf(new Error("wrapped", { cause: pe })).stderrTail).toContain("line 14");
  expect(stderrTailOf(new Error("plain"))).toEqual({});
  expect(lastLines("\n \n")).toBeUndefined();
});

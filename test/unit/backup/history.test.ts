import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readHistory, selectRuns } from "../../../src/core/backup/history.ts";
import type { RunRecord, UnitResult } from "../../../src/core/backup/result.ts";
import { writeRunRecord } from "../../../src/core/backup/run-records.ts";

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
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("readHistory reads the run records newest first and applies --last", () => {
  for (const r of [...runs].reverse()) writeRunRecord(dir, r);
  expect(readHistory(dir, {}).map((r) => r.runId)).toEqual(["r3", "r2", "r1"]);
  expect(readHistory(dir, { last: "2" }).map((r) => r.runId)).toEqual(["r3", "r2"]);
});

test.each(["0", "-1", "x"])("readHistory: --last %p is a usage error", (last) => {
  expect(() => readHistory(dir, { last })).toThrow("--last takes a positive number");
});

import { afterEach, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunRecord } from "../../../../src/core/backup/result.ts";
import { latestRunRecords } from "../../../../src/core/dr/gather.ts";
import { tempDir } from "../../../helpers/env.ts";

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const record = (runId: string, startedAt: string): RunRecord => ({
  runId,
  version: "9.9.9",
  hostname: "h",
  scope: "standard",
  startedAt,
  finishedAt: startedAt,
  durationMs: 1,
  status: "ok",
  units: [],
  errors: [],
});

test("a DR bundle carries the newest run records as written, never a file that is no run record", () => {
  const dir = tempDir("kd-dr-runs-");
  dirs.push(dir);
  const days = ["01", "02", "03", "04", "05", "06", "07"];
  for (const d of days)
    writeFileSync(
      join(dir.path, `2026-01-${d}.json`),
      JSON.stringify(record(`r${d}`, `2026-01-${d}T02:00:00Z`)),
    );
  // Newer by name than every record: a torn write, someone's notes, a directory.
  writeFileSync(join(dir.path, "2026-01-08.json"), '{"runId": "r08", "sta');
  writeFileSync(join(dir.path, "2026-01-09.json"), JSON.stringify({ notes: "moved the disk" }));
  mkdirSync(join(dir.path, "2026-01-10.json"));
  const carried = latestRunRecords(dir.path, 5);
  expect(carried.map((r) => r.name)).toEqual(days.slice(2).map((d) => `2026-01-${d}.json`));
  expect(JSON.parse(carried[0]?.text ?? "{}").runId).toBe("r03");
  expect(latestRunRecords(join(dir.path, "none"))).toEqual([]);
});

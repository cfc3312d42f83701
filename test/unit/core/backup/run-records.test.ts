import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readHistory } from "../../../../src/core/backup/history.ts";
import { historyStats } from "../../../../src/core/backup/history-stats.ts";
import type { RunRecord } from "../../../../src/core/backup/result.ts";
import {
  lastRunFacts,
  readRunRecords,
  scanRunRecords,
  writeRunRecord,
} from "../../../../src/core/backup/run-records.ts";
import { renderHistoryStats } from "../../../../src/ui/history-report.ts";
import { tempDir } from "../../../helpers/env.ts";
import { emptyRunRecord } from "./fixtures.ts";

const good = (runId: string, at: string, status: "ok" | "failed" = "ok"): RunRecord =>
  emptyRunRecord(runId, at, {
    durationMs: 1000,
    status,
    units: [
      {
        name: "web",
        backupId: runId,
        timestamp: at,
        status,
        sources: [{ type: "volume", label: "data", status, bytes: 42, durationMs: 5 }],
        stopped: ["web-1"],
        restartFailed: [],
        errors: status === "ok" ? [] : [{ phase: "pre_hook", message: "not today" }],
        durationMs: 900,
        coldWindowMs: 300,
      },
    ],
  });

/**
 * A record as the first kopi-docka that wrote run records (4d4ba02) wrote it: none of the fields added
 * since (bytes, frozenWindowMs, notProtected, warnings, stderrTail, next, replicas, interrupted,
 * expired, run-level restartFailed and warnings).
 */
const OLD_SHAPED = {
  runId: "20250101T020000Z-0a0b0c",
  version: "0.0.1",
  hostname: "old-host",
  scope: "standard",
  startedAt: "2025-01-01T02:00:00.000Z",
  finishedAt: "2025-01-01T02:01:00.000Z",
  durationMs: 60000,
  status: "ok",
  units: [
    {
      name: "web",
      backupId: "b1",
      timestamp: "2025-01-01T02:00:00Z",
      status: "ok",
      sources: [{ type: "recipe", label: "recipe", status: "ok", snapshotId: "k1", durationMs: 10 }],
      stopped: ["web-1"],
      restartFailed: [],
      errors: [],
      durationMs: 50000,
      coldWindowMs: 4000,
    },
  ],
  errors: [{ phase: "maintenance", message: "quick maintenance skipped" }],
};

let dir: { path: string; remove: () => void };
let runs: string;
beforeEach(() => {
  dir = tempDir("kd-run-records-");
  runs = join(dir.path, "runs");
  mkdirSync(runs);
});
afterEach(() => dir.remove());

const put = (name: string, text: string) => writeFileSync(join(runs, name), text);

describe("reading run records", () => {
  test("a torn, a foreign and a hand-written file are each skipped with one warning naming it and what is wrong", () => {
    writeRunRecord(runs, good("r1", "2026-01-01T00:00:00.000Z"));
    put("torn.json", '{"runId":"r9","units":[');
    put("bad1.json", '{"runId":"zzz","units":[]}');
    put("bad2.json", JSON.stringify({ ...good("yyy", "2026-01-02T00:00:00.000Z"), units: [{ name: "x" }] }));
    put("list.json", "[1,2]");
    const warned: string[] = [];
    const records = readRunRecords(runs, (l) => warned.push(l));
    expect(records.map((r) => r.runId)).toEqual(["r1"]);
    expect(warned).toHaveLength(4);
    const about = (file: string) => warned.find((l) => l.includes(join(runs, file))) ?? "";
    expect(about("torn.json")).toContain("not JSON");
    expect(about("bad1.json")).toMatch(/not a run record: version: .*expected string/);
    expect(about("bad2.json")).toContain("units.0.backupId: Invalid input: expected string");
    expect(about("list.json")).toContain("(the whole file)");
    // A backup reads the records three times: each file is told once.
    readRunRecords(runs, (l) => warned.push(l));
    expect(warned).toHaveLength(4);
  });

  test("what the backup, history and --stats make of the records never trips over a bad file", () => {
    writeRunRecord(runs, good("r1", "2026-01-01T00:00:00.000Z"));
    put("bad2.json", '{"runId":"yyy","startedAt":"2026-01-02T00:00:00.000Z","units":[{"name":"x"}]}');
    const quiet = () => undefined;
    expect(lastRunFacts(readRunRecords(runs, quiet))).toEqual({
      lastColdWindows: { web: 300 },
      lastSourceBytes: { "web\u0000volume\u0000data": 42 },
    });
    const history = readHistory(runs, {}, quiet);
    expect(history.map((r) => r.runId)).toEqual(["r1"]);
    expect(historyStats(history, new Date("2026-02-01T00:00:00Z"))[0]?.lastOkAt).toBe(
      "2026-01-01T00:00:00.000Z",
    );
    expect(scanRunRecords(runs).skipped.map((s) => s.file)).toEqual([join(runs, "bad2.json")]);
  });

  test("a record an older kopi-docka wrote reads, and a newer one's extra keys are kept", () => {
    put("old.json", JSON.stringify(OLD_SHAPED));
    put("new.json", JSON.stringify({ ...good("r2", "2026-01-01T00:00:00.000Z"), fromTheFuture: { x: 1 } }));
    const { records, skipped } = scanRunRecords(runs);
    expect(skipped).toEqual([]);
    expect(records.map((r) => r.runId)).toEqual([OLD_SHAPED.runId, "r2"]);
    expect(records[0]).toEqual(OLD_SHAPED as RunRecord);
    expect(records[1]).toHaveProperty("fromTheFuture", { x: 1 });
  });

  test("a value of the wrong kind where an optional field is is still no run record", () => {
    put("odd.json", JSON.stringify({ ...good("r3", "2026-01-01T00:00:00.000Z"), replicas: "all" }));
    expect(scanRunRecords(runs).skipped[0]?.why).toContain("replicas");
  });
});

describe("a run stamped ahead of the clock (a clock set ahead, since corrected)", () => {
  test("reads, counts in --stats, but is no unit's last run or LAST OK, and the table says so", () => {
    writeRunRecord(runs, good("r1", "2026-01-01T00:00:00.000Z"));
    writeRunRecord(runs, good("r2", "2027-01-01T00:00:00.000Z"));
    writeRunRecord(runs, good("r3", "2026-01-02T00:00:00.000Z", "failed"));
    const records = readRunRecords(runs, () => undefined);
    expect(records.map((r) => r.runId)).toEqual(["r1", "r3", "r2"]);
    const [web] = historyStats(records, new Date("2026-01-03T00:00:00Z"));
    expect(web).toMatchObject({ runs: 3, ok: 2, failed: 1, lastRunAt: "2026-01-02T00:00:00.000Z" });
    expect(web?.lastOkAt).toBe("2026-01-01T00:00:00.000Z");
    expect(web?.ahead).toEqual({ runs: 1, latestAt: "2027-01-01T00:00:00.000Z" });
    const text = renderHistoryStats(historyStats(records, new Date("2026-01-03T00:00:00Z")));
    expect(text.split("\n")[1]?.trimEnd()).toEndWith("2026-01-01T00:00:00.000Z"); // the row's LAST OK
    expect(text).toContain(
      "web: 1 run(s) stamped ahead of this host's clock (latest 2027-01-01T00:00:00.000Z), not taken as its last",
    );
  });
});

describe("each file is read and parsed once per process, while its stat is unchanged", () => {
  /** A reader that counts what it read, by file name. */
  const counting = () => {
    const reads: string[] = [];
    const read = (file: string) => {
      reads.push(file.slice(runs.length + 1));
      return readFileSync(file, "utf8");
    };
    return { reads, read };
  };

  test("a second scan reads nothing and gives the same records and skipped files", () => {
    writeRunRecord(runs, good("r1", "2026-01-01T00:00:00.000Z"));
    writeRunRecord(runs, good("r2", "2026-01-02T00:00:00.000Z"));
    put("torn.json", '{"runId":"r9","units":[');
    const { reads, read } = counting();
    const first = scanRunRecords(runs, read);
    expect(reads.sort()).toEqual(["r1.json", "r2.json", "torn.json"]);
    const second = scanRunRecords(runs, read);
    expect(reads).toHaveLength(3);
    expect(second).toEqual(first);
    expect(second.records.map((r) => r.runId)).toEqual(["r1", "r2"]);
    expect(second.skipped.map((s) => s.file)).toEqual([join(runs, "torn.json")]);
  });

  test("a record rewritten (atomically, as a run writes its own) is read again; the others are not", () => {
    writeRunRecord(runs, good("r1", "2026-01-01T00:00:00.000Z"));
    writeRunRecord(runs, good("r2", "2026-01-02T00:00:00.000Z"));
    const { reads, read } = counting();
    expect(scanRunRecords(runs, read).records.map((r) => r.status)).toEqual(["ok", "ok"]);
    writeRunRecord(runs, good("r2", "2026-01-02T00:00:00.000Z", "failed"));
    reads.length = 0;
    expect(scanRunRecords(runs, read).records.map((r) => r.status)).toEqual(["ok", "failed"]);
    expect(reads).toEqual(["r2.json"]);
  });

  test("a same-size rewrite in place with its old mtime put back is read again (ctime tells it)", () => {
    const file = join(runs, "a.json");
    const text = JSON.stringify(good("r1", "2026-01-01T00:00:00.000Z"));
    put("a.json", text);
    const mtime = new Date("2026-01-01T00:00:01.000Z"); // whole ms: utimes can put it back exactly
    utimesSync(file, mtime, mtime);
    const { reads, read } = counting();
    expect(scanRunRecords(runs, read).records.map((r) => r.runId)).toEqual(["r1"]);
    Bun.sleepSync(20); // past the ctime the first write left
    // Same inode, same size, the mtime set back as tar or cp -p do.
    put("a.json", text.replace('"runId":"r1"', '"runId":"r7"'));
    utimesSync(file, mtime, mtime);
    expect(statSync(file).mtimeMs).toBe(mtime.getTime());
    reads.length = 0;
    expect(scanRunRecords(runs, read).records.map((r) => r.runId)).toEqual(["r7"]);
    expect(reads).toEqual(["a.json"]);
  });

  test("a file edited in place, a new one and one removed: read again, read, dropped", () => {
    put("a.json", JSON.stringify(good("r1", "2026-01-01T00:00:00.000Z")));
    put("b.json", '{"runId":"r9"');
    const { reads, read } = counting();
    expect(scanRunRecords(runs, read).skipped.map((s) => s.file)).toEqual([join(runs, "b.json")]);
    put("b.json", JSON.stringify(good("r2", "2026-01-02T00:00:00.000Z"))); // same inode, new size
    rmSync(join(runs, "a.json"));
    put("c.json", JSON.stringify(good("r3", "2026-01-03T00:00:00.000Z")));
    reads.length = 0;
    const after = scanRunRecords(runs, read);
    expect(reads.sort()).toEqual(["b.json", "c.json"]);
    expect(after).toEqual({
      records: [expect.objectContaining({ runId: "r2" }), expect.objectContaining({ runId: "r3" })],
      skipped: [],
    });
  });
});

import { describe, expect, test } from "bun:test";
import { planBackup } from "../../../../src/core/backup/plan.ts";
import { type RunRecord, savedBytes, type UnitResult } from "../../../../src/core/backup/result.ts";
import { lastRunFacts, lastSourceBytes } from "../../../../src/core/backup/run-records.ts";
import { sourceKey } from "../../../../src/core/backup/sources.ts";
import { parseSnapshotLines } from "../../../../src/core/kopia/parse.ts";
import { renderBackupPlan, unitRow } from "../../../../src/ui/backup-report.ts";
import { config, discovery, planOpts, stackUnit } from "./fixtures.ts";

// `kopia snapshot create --json` stdout, as kopia 0.23.1 printed it on this machine (second snapshot).
const CREATE_STDOUT =
  '{"id":"b8abf8b2144d17e29d8a79d84abfcac5","source":{"host":"vm","userName":"root","path":"/tmp/kdt-prog/src"},' +
  '"description":"","startTime":"2026-11-30T11:02:47.011078558Z","endTime":"2026-11-30T11:02:47.024661868Z",' +
  '"rootEntry":{"name":"src","type":"d","mode":"0755","mtime":"2026-11-30T11:02:31.788065853Z",' +
  '"obj":"k56c8327d2b62b59126e78b541cdf3499","summ":{"size":65000002,"files":51,"symlinks":0,"dirs":1,' +
  '"maxTime":"2026-11-30T11:02:46.281898006Z","numFailed":0}}}\n';

const unit = (name: string, sources: UnitResult["sources"], extra: Partial<UnitResult> = {}): UnitResult => ({
  name,
  backupId: `${name}-1`,
  timestamp: "2026-11-30T00:00:00.000Z",
  status: "ok",
  sources,
  stopped: [],
  restartFailed: [],
  errors: [],
  durationMs: 1000,
  ...extra,
});
const record = (startedAt: string, units: UnitResult[]): RunRecord => ({
  runId: startedAt,
  version: "0",
  hostname: "h",
  scope: "standard",
  startedAt,
  finishedAt: startedAt,
  durationMs: 1,
  status: "ok",
  units,
  errors: [],
});

describe("snapshot sizes come from the kopia manifest", () => {
  test("snapshot create --json: rootEntry.summ.size and files are read as they are", () => {
    const [m] = parseSnapshotLines(`Snapshotting …\n${CREATE_STDOUT}`);
    expect(m?.rootEntry?.summ).toMatchObject({ size: 65_000_002, files: 51, numFailed: 0 });
  });

  test("a unit's saved bytes count only saved snapshots", () => {
    expect(
      savedBytes([
        { type: "volume", label: "a", status: "ok", bytes: 10, durationMs: 1 },
        { type: "volume", label: "b", status: "failed", bytes: 99, durationMs: 1 },
        { type: "bind", label: "/c", status: "ok", durationMs: 1 },
        { type: "recipe", label: "recipe", status: "ok", bytes: 5, durationMs: 1 },
      ]),
    ).toBe(15);
  });

  test("history row: SIZE from the record, or summed from the sources of an older record", () => {
    const sources: UnitResult["sources"] = [
      { type: "volume", label: "a", status: "ok", bytes: 3 * 1024 * 1024, durationMs: 1 },
    ];
    expect(unitRow(unit("shop", sources, { bytes: 2048 }))[3]).toBe("2.0 KiB");
    expect(unitRow(unit("shop", sources))[3]).toBe("3.0 MiB");
  });

  test("last snapshot size per source: the newest run that saved it wins; failed runs do not count", () => {
    const records = [
      record("2026-11-01", [
        unit("shop", [{ type: "volume", label: "db", status: "ok", bytes: 100, durationMs: 1 }]),
      ]),
      record("2026-11-02", [
        unit("shop", [{ type: "volume", label: "db", status: "ok", bytes: 200, durationMs: 1 }]),
      ]),
      record("2026-11-03", [
        unit("shop", [{ type: "volume", label: "db", status: "failed", bytes: 999, durationMs: 1 }]),
      ]),
    ];
    expect(lastSourceBytes(records)).toEqual({ [sourceKey("shop", "volume", "db")]: 200 });
    expect(lastRunFacts(records).lastSourceBytes).toEqual(lastSourceBytes(records));
  });

  test("dry-run plan: last snapshot sizes per source; unwalked sources are estimated from them", () => {
    const u = stackUnit();
    const lastSourceBytes = {
      [sourceKey("shop", "recipe", "recipe")]: 7000,
      [sourceKey("shop", "volume", "shop_dbdata")]: 900,
    };
    const plan = planBackup(config(), discovery(u), new Date(0), { ...planOpts, lastSourceBytes });
    const sources = plan.units[0]?.sources ?? [];
    expect(sources.find((s) => s.type === "recipe")).toMatchObject({ lastSnapshotBytes: 7000 });
    expect(sources.find((s) => s.type === "volume")).toMatchObject({
      sizeBytes: 1000,
      lastSnapshotBytes: 900,
    });
    expect(sources.find((s) => s.type === "bind")?.lastSnapshotBytes).toBeUndefined();
    // walked volume 1000 + walked bind 24 + recipe known only from its last snapshot 7000
    expect(plan.estimatedBytes).toBe(8024);
    expect(renderBackupPlan(plan)).toMatch(/volume\s+shop_dbdata\s+1000 B\s+900 B/);
  });
});

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolvePaths } from "../../../../src/config/resolve.ts";
import { type Config, ConfigSchema } from "../../../../src/config/schema.ts";
import { freshnessChecks } from "../../../../src/core/alerts/doctor-freshness.ts";
import type { UnitResult } from "../../../../src/core/backup/result.ts";
import { writeRunRecord } from "../../../../src/core/backup/run-records.ts";
import { writeMarker } from "../../../../src/core/repository/saved.ts";
import { tempDir } from "../../../helpers/env.ts";
import { emptyRunRecord } from "../backup/fixtures.ts";

const NOW = new Date("2026-03-10T12:00:00.000Z");
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000).toISOString();

let dir: { path: string; remove: () => void };
let config: Config;
beforeEach(() => {
  dir = tempDir("kd-doctor-fresh-");
  config = ConfigSchema.parse({ paths: { state_dir: join(dir.path, "state") } });
});
afterEach(() => dir.remove());

const paths = () => resolvePaths(config);
const at0 = "2026-03-01T00:00:00.000Z";
const unit = (name: string, status: UnitResult["status"]): UnitResult => ({
  name,
  backupId: at0,
  timestamp: at0,
  status,
  sources: [],
  stopped: [],
  restartFailed: [],
  errors: [],
  durationMs: 1,
});
function ran(at: string, units: UnitResult[]): void {
  writeRunRecord(paths().runsDir, emptyRunRecord(at, at, { version: "0", units }));
}
const connectedAt = (at: string) =>
  writeMarker(paths().stateDir, { backend: "filesystem", location: "/r", connectedAt: at });
const check = (configPath?: string) => freshnessChecks(config, paths(), configPath, NOW);

describe("doctor's freshness lines", () => {
  test("a unit past its limit is a fail (it was a warning, and warnings count as healthy)", () => {
    ran(hoursAgo(30), [unit("app", "ok"), unit("db", "ok")]);
    ran(hoursAgo(2), [unit("app", "ok"), unit("db", "failed")]);
    expect(check()).toEqual([
      { id: "freshness", status: "ok", detail: "app: last good backup 2h 0m ago (limit 26h)" },
      {
        id: "freshness",
        status: "fail",
        detail: "db: last good backup 30h 0m ago (limit 26h)",
        hint: "kopi-docka history --failed; kopi-docka systemd logs",
      },
    ]);
  });

  test("a stray file in runs/ is a warning naming it; every unit's line is still there", () => {
    ran(hoursAgo(2), [unit("app", "ok")]);
    writeFileSync(join(paths().runsDir, "bad1.json"), '{"runId":"zzz","units":[]}');
    const [stray, app] = check();
    expect(stray).toMatchObject({
      id: "freshness",
      status: "warn",
      hint: `move it out of ${paths().runsDir}`,
    });
    expect(stray?.detail).toContain(
      `run record ${join(paths().runsDir, "bad1.json")} left out (not a run record:`,
    );
    expect(app).toEqual({
      id: "freshness",
      status: "ok",
      detail: "app: last good backup 2h 0m ago (limit 26h)",
    });
  });

  test("never backed up, set up within the limit: a warning saying so", () => {
    connectedAt(hoursAgo(3));
    const [line] = check();
    expect(line).toMatchObject({ id: "freshness", status: "warn" });
    expect(line?.detail).toBe("no unit has been backed up on this host yet; set up 3h 0m ago (limit 26h)");
    expect(line?.hint).toContain("kopi-docka systemd run-now --follow");
  });

  test("never backed up, set up longer ago than the limit: a fail", () => {
    connectedAt(hoursAgo(40));
    ran(hoursAgo(20), []);
    const [line] = check();
    expect(line?.status).toBe("fail");
    expect(line?.detail).toBe(
      "no unit has been backed up on this host yet (runs so far: 1); set up 40h 0m ago (limit 26h)",
    );
  });

  test("no repository marker: the config file's age counts; no config file either: a warning", () => {
    const file = join(dir.path, "config.toml");
    writeFileSync(file, "");
    const old = new Date(hoursAgo(50));
    utimesSync(file, old, old);
    expect(check(file)[0]?.status).toBe("fail");
    expect(check(undefined)).toEqual([
      {
        id: "freshness",
        status: "warn",
        detail: "no unit has been backed up on this host yet",
        hint: "kopi-docka backup runs one now (as the timer would: kopi-docka systemd run-now --follow)",
      },
    ]);
  });
});

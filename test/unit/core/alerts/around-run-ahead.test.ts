import { afterEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "../../../../src/config/load.ts";
import { resolvePaths } from "../../../../src/config/resolve.ts";
import { runWithAlerts } from "../../../../src/core/alerts/around-run.ts";
import { outcomeError, type RunRecord, type UnitResult } from "../../../../src/core/backup/result.ts";
import { writeRunRecord } from "../../../../src/core/backup/run-records.ts";
import { InterruptedError } from "../../../../src/core/errors.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { Lifecycle } from "../../../../src/core/safe-exit.ts";
import { exitCodeFor } from "../../../../src/exit-codes.ts";
import { tempDir } from "../../../helpers/env.ts";

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const web = (status: UnitResult["status"]): UnitResult => ({
  name: "web",
  backupId: "b",
  timestamp: "t",
  status,
  sources: [],
  stopped: [],
  restartFailed: [],
  errors: status === "ok" ? [] : [{ phase: "interrupted", message: "interrupted by SIGTERM" }],
  durationMs: 1,
});
const record = (runId: string, at: string, status: "ok" | "failed"): RunRecord => ({
  runId,
  version: "0",
  hostname: "h",
  scope: "standard",
  startedAt: at,
  finishedAt: at,
  durationMs: 1,
  status,
  units: [web(status)],
  errors: [],
});

test("a run cut short by a signal reports its own record, not one stamped a year ahead", async () => {
  const t = tempDir("kd-around-ahead-");
  dirs.push(t);
  const textfile = join(t.path, "kopi_docka.prom");
  const config = parseConfigText(
    `[repository]\npath = "${join(t.path, "repo")}"\npassword_file = "${join(t.path, "pw")}"\n` +
      `[paths]\nstate_dir = "${join(t.path, "state")}"\ncache_dir = "${join(t.path, "cache")}"\n` +
      `lock_file = "${join(t.path, "lock")}"\n[metrics]\ntextfile = "${textfile}"\n`,
    "x",
  );
  const paths = resolvePaths(config);
  const now = new Date("2026-03-01T02:00:00.000Z");
  // An OK run under a clock set a year ahead, since corrected.
  writeRunRecord(paths.runsDir, record("20270301T020000Z-aaaaaa", "2027-03-01T02:00:00.000Z", "ok"));
  const lifecycle = new Lifecycle();
  const deps = {
    config,
    paths,
    hostname: "h",
    log: silentLogger(),
    now: () => now,
    lifecycle,
    kopia: { snapshotList: async () => [] },
    exitCodeFor,
    outcomeError,
    atTerminal: false,
  };
  const e = await runWithAlerts(deps, async () => {
    // What the drain writes for this run, then the signal path runs the alert phase.
    writeRunRecord(paths.runsDir, record("20260301T020000Z-bbbbbb", now.toISOString(), "failed"));
    await lifecycle.onSignal("SIGTERM");
    throw new InterruptedError("SIGTERM");
  }).catch((x) => x);
  expect(e).toBeInstanceOf(InterruptedError);
  const text = readFileSync(textfile, "utf8");
  expect(text).toContain('kopi_docka_last_run_status{unit="web"} 1');
  expect(text).toContain(`kopi_docka_run_timestamp_seconds ${now.getTime() / 1000}`);
  expect(text).not.toContain("kopi_docka_last_success_timestamp_seconds");
});

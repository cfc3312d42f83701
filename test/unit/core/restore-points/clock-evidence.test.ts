import { afterEach, expect, test } from "bun:test";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  readClockEvidence,
  sampleClock,
  trustClockJumps,
  trustedClockFile,
} from "../../../../src/core/restore-points/clock-evidence.ts";
import { tempDir } from "../../../helpers/env.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function stateDir() {
  const t = tempDir("kd-clock-evidence-");
  cleanups.push(() => t.remove());
  const paths = { stateDir: join(t.path, "state"), runsDir: join(t.path, "state", "runs") };
  mkdirSync(paths.runsDir, { recursive: true });
  return paths;
}
const record = (runId: string, hostname: string, extra: object = {}) => {
  const at = `2026-01-0${runId.slice(1)}T03:00:00Z`;
  return JSON.stringify({
    runId,
    version: "9.9.9",
    hostname,
    scope: "full",
    startedAt: at,
    finishedAt: at,
    durationMs: 0,
    status: "ok",
    units: [],
    errors: [],
    ...extra,
  });
};

test("the host's clocks now: this boot's id and its uptime, beside the wall clock", () => {
  const s = sampleClock();
  expect(s?.bootId).toMatch(/^[0-9a-f-]{36}$/);
  expect(s?.uptimeMs).toBeGreaterThan(0);
  expect(sampleClock(() => "not a number")).toBeUndefined();
  expect(sampleClock(() => "12345.67 999.00\n")?.uptimeMs).toBe(12_345_670);
});

test("this host's run records, their clocks where well formed and their numbers, the run under way, the trusted gaps", () => {
  const paths = stateDir();
  const clock = { at: "2026-01-01T03:00:00Z", bootId: "b", uptimeMs: 5 };
  writeFileSync(join(paths.runsDir, "r1.json"), record("r1", "h", { clock, sequence: 7 }));
  writeFileSync(join(paths.runsDir, "r2.json"), record("r2", "h", { clock: { at: 1 } }));
  writeFileSync(join(paths.runsDir, "r3.json"), record("r3", "elsewhere"));
  const now = { runId: "r4", startedAt: "2026-01-04T03:00:00Z", sequence: 8 };
  const ev = readClockEvidence(paths, "h", now);
  expect([...ev.runs]).toEqual([
    ["r1", { startedAt: "2026-01-01T03:00:00Z", clock, sequence: 7 }],
    ["r2", { startedAt: "2026-01-02T03:00:00Z" }],
    ["r4", now],
  ]);
  expect([...ev.trusted]).toEqual([]);
  trustClockJumps(paths.stateDir, ["r4"]);
  trustClockJumps(paths.stateDir, ["r2", "r4"]);
  expect([...readClockEvidence(paths, "h").trusted]).toEqual(["r4", "r2"]);
  expect(statSync(trustedClockFile(paths.stateDir)).mode & 0o777).toBe(0o600);
  // A torn file trusts nothing: the points stay.
  writeFileSync(trustedClockFile(paths.stateDir), "{");
  expect([...readClockEvidence(paths, "h").trusted]).toEqual([]);
  expect(readFileSync(trustedClockFile(paths.stateDir), "utf8")).toBe("{");
});

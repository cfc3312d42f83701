import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { deadRunMarker, RUN_MARKER_ENV, settleDeadRun } from "../../../../src/core/containers/orphans.ts";
import { isProcessAlive, processStartTime } from "../../../../src/core/lock/owner.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { rollback } from "../../../../src/core/upgrade/upgrade.ts";
import { tempDir } from "../../../helpers/env.ts";

// A command that takes the lock over from a dead run without starting containers (`points`,
// `upgrade`) still ends what that run left running. Real processes: a `sleep` carrying a dead run's
// marker stands for a snapshot it left parked at its gate.
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** The pid of a process that has already exited. */
const deadPid = () => Bun.spawnSync(["true"]).pid;

/** A process carrying `marker` as a run's child does; killed at the end of the test if still there. */
function orphanOf(marker: string) {
  const p = Bun.spawn(["sleep", "300"], { env: { ...process.env, [RUN_MARKER_ENV]: marker } });
  cleanups.push(() => p.kill("SIGKILL"));
  return p;
}

describe("a dead run's processes, for commands that start no containers", () => {
  test("the marker is the dead run's; a holder that lives has none", () => {
    const pid = deadPid();
    expect(deadRunMarker({ pid, processStartTime: 7 })).toBe(`${pid}:7`);
    expect(deadRunMarker({ pid: process.pid, processStartTime: processStartTime(process.pid) ?? null })).toBe(
      undefined,
    );
    expect(deadRunMarker(undefined)).toBe(undefined);
  });

  test("settleDeadRun ends the dead run's child and leaves everything else running", async () => {
    const pid = deadPid();
    const orphan = orphanOf(`${pid}:7`);
    const bystander = orphanOf(`${deadPid()}:7`);
    await Bun.sleep(50);
    await settleDeadRun({ pid, processStartTime: 7 }, { log: silentLogger(), graceMs: 2000 });
    expect(await orphan.exited).not.toBe(0);
    expect(isProcessAlive(bystander.pid)).toBe(true);
  });

  test("`upgrade --rollback` over a dead backup's lock ends what that backup left running", async () => {
    const d = tempDir("kd-dead-run-");
    cleanups.push(() => d.remove());
    const target = join(d.path, "kopi-docka");
    writeFileSync(target, "new");
    writeFileSync(`${target}.previous`, "old");
    const lockFile = join(d.path, "kopi-docka.lock");
    const pid = deadPid();
    const lock = {
      ...{ pid, runId: "backup-killed", command: "backup", startedAt: "2026-01-01T00:00:00.000Z" },
      ...{ hostname: hostname(), processStartTime: 7 },
    };
    writeFileSync(lockFile, JSON.stringify(lock));
    const orphan = orphanOf(`${pid}:7`);
    await Bun.sleep(50);
    await rollback({ target, lockFile, services: [] }, silentLogger());
    expect(await orphan.exited).not.toBe(0);
    expect(readFileSync(target, "utf8")).toBe("old");
  });
});

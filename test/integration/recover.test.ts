import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { createJournal } from "../../src/core/containers/journal.ts";
import { acquireLock } from "../../src/core/lock/acquire.ts";
import { createBunRunner } from "../../src/core/process/runner.ts";
import { describeReal, run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

const SOURCE_CLI = [process.execPath, join(import.meta.dir, "..", "..", "src", "cli.ts")];
const cli = (args: string[]) =>
  createBunRunner().run([...SOURCE_CLI, ...args], {
    check: false,
    env: { NO_COLOR: "1", CI: "true", KOPI_DOCKA_CONFIG: undefined },
    timeoutMs: 120_000,
  });

async function state(name: string): Promise<{ Running: boolean; StartedAt: string } | undefined> {
  const r = await run(["docker", "inspect", "--format", "{{json .State}}", name], { check: false });
  return r.exitCode === 0 ? JSON.parse(r.stdout) : undefined;
}

describeReal("kopi-docka recover against real containers", ["docker", "image"], () => {
  const dir = tempDir("kd-recover-it-");
  const prefix = uniqueName("kdrec");
  const names = ["a", "b", "gone", "restarted", "running", "live", "inflight", "locked"].map(
    (n) => `${prefix}-${n}`,
  );
  const [a, b, gone, restarted, running, live, inflight, locked] = names as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  /** The containers the first test journals (the others have tests of their own). */
  const firstBatch = names.filter((x) => x !== inflight && x !== locked);
  let config = "";

  beforeAll(async () => {
    config = writeTestConfig(dir.path);
    await Promise.all(
      names.map((n) => run(["docker", "run", "-d", "--name", n, TEST_IMAGE, "sleep", "3600"])),
    );
  }, 60_000);
  afterAll(async () => {
    await run(["docker", "rm", "-f", ...names], { check: false });
    dir.remove();
  }, 60_000);

  test("starts exactly the containers a dead run stopped; leaves removed, restarted and live-run ones alone", async () => {
    const journal = createJournal(join(dir.path, "state", "journal"));
    const deadPid = Bun.spawnSync(["true"]).pid;
    let second = 0;
    const startedBefore: Record<string, string> = {};
    for (const n of firstBatch) {
      const s = await state(n);
      startedBefore[n] = s?.StartedAt ?? "";
      journal.record({
        runId: n === live ? "live-run" : "dead-run",
        pid: n === live ? process.pid : deadPid,
        pidStartTime: n === live ? undefined : 1,
        unit: n,
        containerId: (await run(["docker", "inspect", "--format", "{{.Id}}", n])).stdout.trim(),
        containerName: n,
        stoppedAt: new Date(Date.now() + second++ * 1000).toISOString(),
        startedAt: s?.StartedAt ?? "",
      });
    }
    await run(["docker", "stop", "-t", "1", ...firstBatch]);
    // The "cold window": someone removes one container, restarts another (and stops it again), starts a third.
    await run(["docker", "rm", gone]);
    await run(["docker", "start", restarted]);
    await run(["docker", "stop", "-t", "1", restarted]);
    await run(["docker", "start", running]);

    const r = await cli(["recover", "--json", "--config", config]);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.started).toEqual([b, a]);
    expect(
      Object.fromEntries(out.skipped.map((s: { name: string; reason: string }) => [s.name, s.reason])),
    ).toEqual({
      [gone]: "removed since it was stopped",
      [restarted]: "started by someone else since it was stopped",
      [running]: "already running",
    });
    expect((await state(a))?.Running).toBe(true);
    expect((await state(b))?.Running).toBe(true);
    expect((await state(restarted))?.Running).toBe(false);
    // Removed by someone else: no error, and recovery creates nothing in its place.
    expect(out.failed).toEqual([]);
    expect(await state(gone)).toBeUndefined();
    const sameName = await run([
      "docker",
      "ps",
      "-a",
      "--filter",
      `name=^/${gone}$`,
      "--format",
      "{{.Names}}",
    ]);
    expect(sameName.stdout.trim()).toBe("");
    // Restarted by someone else and stopped again: StartedAt differs from the journal's, so not started.
    expect((await state(restarted))?.StartedAt).not.toBe(startedBefore[restarted]);
    expect((await state(live))?.Running).toBe(false);
    expect(journal.entries().map((e) => e.containerName)).toEqual([live]);

    const again = await cli(["recover", "--json", "--config", config]);
    expect(JSON.parse(again.stdout)).toMatchObject({ started: [], skipped: [], failed: [] });
    expect((await state(live))?.Running).toBe(false);
  }, 120_000);

  test("a `docker stop` the dead run left in flight (kill -9) is waited for, then the container is started", async () => {
    const journal = createJournal(join(dir.path, "state", "journal"));
    const deadPid = Bun.spawnSync(["true"]).pid;
    const s = await state(inflight);
    const id = (await run(["docker", "inspect", "--format", "{{.Id}}", inflight])).stdout.trim();
    journal.record({
      runId: "killed-run",
      pid: deadPid,
      pidStartTime: 1,
      unit: inflight,
      containerId: id,
      containerName: inflight,
      stoppedAt: new Date().toISOString(),
      startedAt: s?.StartedAt ?? "",
    });
    // The orphan: busybox sleep as PID 1 ignores SIGTERM, so this stop takes its full 4 s timeout.
    const orphan = createBunRunner().run(["docker", "stop", "-t", "4", id], {
      env: { KOPI_DOCKA_RUN: `${deadPid}:1` },
    });
    await Bun.sleep(300);
    const r = await cli(["recover", "--json", "--config", config]);
    await orphan;
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).started).toEqual([inflight]);
    await Bun.sleep(500);
    expect((await state(inflight))?.Running).toBe(true);
  }, 120_000);

  test("while a live run holds the lock, recover starts nothing (exit 11); once it is free, it does", async () => {
    const journal = createJournal(join(dir.path, "state", "journal"));
    const deadPid = Bun.spawnSync(["true"]).pid;
    const before = await state(locked);
    journal.record({
      runId: "dead-before-lock",
      pid: deadPid,
      pidStartTime: 1,
      unit: locked,
      containerId: (await run(["docker", "inspect", "--format", "{{.Id}}", locked])).stdout.trim(),
      containerName: locked,
      stoppedAt: new Date().toISOString(),
      startedAt: before?.StartedAt ?? "",
    });
    await run(["docker", "stop", "-t", "1", locked]);
    // This test process plays the live backup in its cold window.
    const lock = await acquireLock(join(dir.path, "kopi-docka.lock"), {
      runId: "live-backup",
      command: "backup",
    });
    try {
      const r = await cli(["recover", "--json", "--config", config]);
      expect(r.exitCode).toBe(11);
      expect(r.stderr).toContain("holds the lock");
      expect((await state(locked))?.Running).toBe(false);
    } finally {
      lock.release();
    }
    const r = await cli(["recover", "--json", "--config", config]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).started).toEqual([locked]);
    expect((await state(locked))?.Running).toBe(true);
  }, 120_000);
});

import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { currentBootId, currentPidNamespace, processStartTime } from "../../src/core/lock/owner.ts";
import { systemdIsRunning } from "../../src/systemd/systemctl.ts";
import { removeDockerObjects } from "../helpers/cleanup.ts";
import { runCli } from "../helpers/cli.ts";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { whileBackupHolds, writeSlowHook } from "../helpers/held-backup.ts";

// The service commands where systemd is not PID 1 (this host): status's lock line, unlock, and the
// fallbacks of logs and run-now. The booted-systemd side is test/integration/systemd-service.test.ts.
describeReal("systemd status/unlock/logs/run-now without systemd", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-svc-");
  const name = uniqueName("kdtsvc");
  const hook = join(dir.path, "hook.sh");
  const kd = join(dir.path, "kd");
  const config = writeTestConfig(kd, `\n[units.${name}]\npre_backup = "${hook}"\n`);
  const lockFile = join(kd, "kopi-docka.lock");
  const unitDir = join(dir.path, "units");
  const cli = (...args: string[]) => runCli([...args, "--config", config]);
  const status = async () => {
    const r = await cli("systemd", "status", "--unit-dir", unitDir, "--json");
    expect(r.exitCode).toBe(0);
    return JSON.parse(r.stdout).lock;
  };

  beforeAll(async () => {
    await run(["mkdir", "-p", unitDir]);
    writeSlowHook(hook, dir.path);
    await startContainer(name, name);
    expect((await cli("backup", "--unit", name)).exitCode).toBe(0);
  }, 240_000);

  afterAll(async () => {
    await removeDockerObjects([name], [name]);
    dir.remove();
  }, 60_000);

  test("this host has no systemd (the premise of these tests)", () => {
    expect(systemdIsRunning()).toBe(false);
  });

  test("status: the lock free; held by a live backup (pid, command, since); unlock refuses it (11)", async () => {
    expect(await status()).toEqual({ file: lockFile, state: "free" });
    await whileBackupHolds(dir.path, name, config, async (backup) => {
      const lock = await status();
      expect(lock).toMatchObject({ state: "held", holder: { pid: backup.pid, command: "backup" } });
      expect(Date.parse(lock.holder.startedAt)).toBeGreaterThan(Date.now() - 120_000);
      const text = (await cli("systemd", "status", "--unit-dir", unitDir)).stdout;
      expect(text).toContain(
        `lock      held by pid ${backup.pid} (\`kopi-docka backup\`, started ${lock.holder.startedAt})`,
      );
      const before = readFileSync(lockFile, "utf8");
      const refused = await cli("systemd", "unlock");
      expect(refused.exitCode).toBe(11);
      expect(refused.stderr).toContain(`held by a live run: pid ${backup.pid}`);
      expect(readFileSync(lockFile, "utf8")).toBe(before);
    });
    expect(await status()).toEqual({ file: lockFile, state: "free" });
  }, 120_000);

  test("a lock whose holder is gone: status says stale; unlock removes it; again: nothing to do", async () => {
    const gone = Bun.spawn(["true"]);
    await gone.exited;
    const holder = {
      pid: gone.pid,
      runId: "20260101T000000Z-dead00",
      command: "backup",
      startedAt: "2026-01-01T00:00:00.000Z",
      hostname: (await import("node:os")).hostname(),
      processStartTime: processStartTime(process.pid) ?? null,
      bootId: currentBootId(),
      pidNamespace: currentPidNamespace(),
    };
    writeFileSync(lockFile, `${JSON.stringify(holder)}\n`);
    expect(await status()).toMatchObject({ state: "stale", holder: { pid: gone.pid } });
    expect((await cli("systemd", "status", "--unit-dir", unitDir)).stdout).toContain("lock      STALE: pid");
    const r = await cli("systemd", "unlock", "--json");
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ removed: true, holder: { pid: gone.pid } });
    expect(existsSync(lockFile)).toBe(false);
    const again = await cli("systemd", "unlock");
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain("the lock is free");
  });

  test("logs: the last run records instead of the journal, and says so; --follow is a usage error", async () => {
    const r = await cli("systemd", "logs", "--lines", "1", "--json");
    expect(r.exitCode).toBe(0);
    const logs = JSON.parse(r.stdout);
    expect(logs.source).toBe("run-records");
    expect(logs.runs).toHaveLength(1);
    const [newest] = JSON.parse((await cli("history", "--json", "--last", "1")).stdout);
    expect(logs.runs[0].runId).toBe(newest.runId);
    expect(r.stderr).toContain("systemd is not running here (no journal)");
    const text = await cli("systemd", "logs");
    expect(text.stdout).toContain(newest.runId);
    const follow = await cli("systemd", "logs", "--follow");
    expect(follow.exitCode).toBe(2);
    expect(follow.stderr).toContain("--follow needs systemd's journal");
  });

  test("run-now without systemd: exit 14 naming `kopi-docka backup`", async () => {
    const r = await cli("systemd", "run-now");
    expect(r.exitCode).toBe(14);
    expect(r.stderr).toContain("systemd is not running here");
    expect(r.stderr).toContain("kopi-docka backup");
  });
});

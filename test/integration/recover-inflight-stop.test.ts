import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { findOrphans, runMarker } from "../../src/core/containers/orphans.ts";
import { processStartTime } from "../../src/core/lock/owner.ts";
import { runningChildren } from "../../src/core/process/children.ts";
import { createBunRunner } from "../../src/core/process/runner.ts";
import { describeReal, run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

// The whole run SIGKILLed while the daemon stops a container (systemd's final kill of the service's
// cgroup, the `docker stop` CLI included), and `recover` run at once (ExecStopPost): the daemon goes on
// with the stop. Before, recover said "already running", cleared the entry, and the container exited
// at the stop's timeout, down with nothing left to say so.
const SOURCE_CLI = [process.execPath, join(import.meta.dir, "..", "..", "src", "cli.ts")];
const runner = createBunRunner();
const env = { NO_COLOR: "1", CI: "true", KOPI_DOCKA_CONFIG: undefined };

async function state(name: string): Promise<{ Running: boolean; StartedAt: string; ExitCode: number }> {
  return JSON.parse((await run(["docker", "inspect", "--format", "{{json .State}}", name])).stdout);
}

describeReal("a run killed whole while the daemon stops a container", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-inflight-");
  const name = uniqueName("kdt-inflight");
  const volume = `${name}-v`;
  let config = "";

  beforeAll(async () => {
    config = writeTestConfig(dir.path, "[backup]\nstop_timeout = 10\n");
    await run(["docker", "volume", "create", volume]);
    // Ignores SIGTERM: only the daemon's SIGKILL at the stop's timeout ends it.
    const idle = "trap '' TERM; while true; do sleep 0.2; done";
    await run(["docker", "run", "-d", "--name", name, "-v", `${volume}:/data`, TEST_IMAGE, "sh", "-c", idle]);
  }, 120_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
    await run(["docker", "volume", "rm", "-f", volume], { check: false });
    dir.remove();
  }, 60_000);

  test("recover waits for the stop to finish, then starts it; the journal is empty", async () => {
    const before = await state(name);
    let killed = false;
    let pid = 0;
    const argv = [...SOURCE_CLI, "backup", "--unit", name, "--verbose", "--config", config];
    const result = runner.run(argv, {
      check: false,
      env,
      timeoutMs: 120_000,
      onStderrLine: (l) => {
        if (killed || !l.includes(`stopping ${name}`)) return;
        killed = true;
        setTimeout(() => {
          // Every process of the run at once, as systemd kills a cgroup: its children first (kopia,
          // the `docker stop` CLI; they carry the run's marker), then the run itself.
          const marker = runMarker(pid, processStartTime(pid));
          for (const child of findOrphans(new Set([marker]))) process.kill(child.pid, "SIGKILL");
          process.kill(pid, "SIGKILL");
        }, 500);
      },
    });
    const child = runningChildren().find((c) => c.argv.includes(config) && c.argv.includes("backup"));
    if (!child) throw new Error("backup not tracked");
    pid = child.pid;
    expect((await result).signal).toBe("SIGKILL");
    expect(killed).toBe(true);
    // The daemon is still stopping it: running, the same incarnation.
    expect(await state(name)).toMatchObject({ Running: true, StartedAt: before.StartedAt });

    const recover = await runner.run([...SOURCE_CLI, "recover", "--config", config], {
      check: false,
      env,
      timeoutMs: 120_000,
    });
    expect({ exit: recover.exitCode, out: recover.stdout }).toMatchObject({ exit: 0 });
    // Past the stop's timeout and then some: it runs, a new incarnation, and keeps running.
    await Bun.sleep(12_000);
    const after = await state(name);
    expect(after).toMatchObject({ Running: true });
    expect(after.StartedAt).not.toBe(before.StartedAt);
    expect(recover.stdout).toContain(`started  ${name}`);
    expect(recover.stdout + recover.stderr).not.toContain("already running");
    expect(readdirSync(join(dir.path, "state", "journal")).filter((f) => f.endsWith(".json"))).toEqual([]);
  }, 180_000);
});

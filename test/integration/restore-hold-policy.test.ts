import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createJournal } from "../../src/core/containers/journal.ts";
import { runningChildren } from "../../src/core/process/children.ts";
import { createBunRunner } from "../../src/core/process/runner.ts";
import {
  describeReal,
  run,
  TEST_IMAGE,
  tempDir,
  uniqueName,
  volumeMountpoint,
  writeTestConfig,
} from "../helpers/env.ts";

// A restore cut short while kopia replaces a volume holds its container stopped. `docker stop` alone
// does not keep it down: dockerd starts an `always` container at its own start (the boot after the
// power loss that cut the restore short), and the heal then took it running as the admin's consent.
// So the hold sets the restart policy to `no`, saved first in the journal, and the policy is put back
// when the hold ends: the admin's `docker start` seen by `recover`, or a restore of the unit that
// finishes.
const SOURCE_CLI = [process.execPath, join(import.meta.dir, "..", "..", "src", "cli.ts")];
const runner = createBunRunner();
/** 24 files of 8 MiB: long enough for kopia's restore to be caught while it writes. */
const FILL = "for i in $(seq 1 24); do head -c 8388608 /dev/urandom > /data/big$i; done";

describeReal("restore: a held container's restart policy", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kd-hold-policy-");
  const name = uniqueName("kdt-hold-policy");
  const volume = `${name}-v`;
  const journalDir = () => join(dir.path, "state", "journal");
  let config = "";
  let mountpoint = "";

  const cli = (args: string[]) =>
    runner.run([...SOURCE_CLI, ...args, "--config", config], {
      check: false,
      env: { NO_COLOR: "1", CI: "true", TZ: "Etc/UTC", KOPI_DOCKA_CONFIG: undefined },
      timeoutMs: 180_000,
    });
  const policy = async () =>
    (await run(["docker", "inspect", "-f", "{{json .HostConfig.RestartPolicy}}", name])).stdout.trim();
  const running = async () =>
    (await run(["docker", "inspect", "-f", "{{.State.Running}}", name])).stdout.trim() === "true";
  const kopiaRestoring = () => {
    for (const p of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
        if (cmd.includes("restore") && cmd.includes(mountpoint) && cmd.includes("snapshot")) return true;
      } catch {
        // gone
      }
    }
    return false;
  };
  /** A restore of the unit, sent `sig` while kopia writes into the volume. */
  async function interruptedRestore(sig: "SIGKILL" | "SIGTERM") {
    if (!(await running())) await run(["docker", "start", name]);
    await run(["docker", "exec", name, "sh", "-c", "rm -f /data/big*"]);
    const result = cli(["restore", "--unit", name, "--latest", "--yes"]);
    const child = runningChildren().find((c) => c.argv.includes(config) && c.argv.includes("restore"));
    if (!child) throw new Error("restore not tracked");
    let seen = false;
    for (let i = 0; i < 3000 && !seen; i++) {
      seen = kopiaRestoring();
      if (!seen) await Bun.sleep(10);
    }
    expect(seen).toBe(true);
    process.kill(child.pid, sig);
    expect((await result).exitCode).not.toBe(0);
    expect(await running()).toBe(false);
  }

  beforeAll(async () => {
    config = writeTestConfig(dir.path, "[backup]\nstop_timeout = 2\n");
    await run([
      ...["docker", "run", "-d", "--restart=always", "--name", name, "-v", `${volume}:/data`],
      ...[TEST_IMAGE, "sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"],
    ]);
    await run(["docker", "exec", name, "sh", "-c", FILL], { timeoutMs: 120_000 });
    mountpoint = await volumeMountpoint(volume);
    const r = await cli(["backup", "--unit", name]);
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
  }, 240_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
    await run(["docker", "volume", "rm", "-f", volume], { check: false });
    dir.remove();
  }, 60_000);

  test("SIGKILL while kopia writes: held with policy no, `always` saved; the admin's start and recover put it back", async () => {
    await interruptedRestore("SIGKILL");
    expect(await policy()).toBe('{"Name":"no","MaximumRetryCount":0}');
    const held = createJournal(journalDir()).entries();
    expect(held.map((e) => [e.containerName.replace(/^\//, ""), Boolean(e.hold), e.heldPolicy])).toEqual([
      [name, true, { name: "always", maximumRetryCount: 0 }],
    ]);
    const doctor = await cli(["doctor"]);
    expect(doctor.stdout).toContain("restart policy held at no, was always");
    // The admin decides the data is good enough and starts it: the hold ends, its policy comes back.
    await run(["docker", "start", name]);
    const r = await cli(["recover"]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain(`${name}: already running, though restore`);
    expect(r.stderr).not.toContain("docker may have started it by itself");
    expect(await policy()).toBe('{"Name":"always","MaximumRetryCount":0}');
    expect(createJournal(journalDir()).entries()).toEqual([]);
  }, 240_000);

  test("SIGTERM while kopia writes: on-failure:2 held at no; a restore of the unit that finishes puts it back", async () => {
    await run(["docker", "update", "--restart=on-failure:2", name]);
    await interruptedRestore("SIGTERM");
    expect(await policy()).toBe('{"Name":"no","MaximumRetryCount":0}');
    const again = await cli(["restore", "--unit", name, "--latest", "--yes"]);
    expect({ exit: again.exitCode, stderr: again.stderr }).toMatchObject({ exit: 0 });
    expect(again.stderr).toContain(`finished what an interrupted restore left half done`);
    expect(await policy()).toBe('{"Name":"on-failure","MaximumRetryCount":2}');
    expect(createJournal(journalDir()).entries()).toEqual([]);
  }, 240_000);

  test("an old hold entry (no saved policy) on a container docker started itself: recover says so", async () => {
    // As before this fix: held, the policy left at `always`, and dockerd started it at its own start.
    await run(["docker", "update", "--restart=always", name]);
    if (!(await running())) await run(["docker", "start", name]);
    const startedAt = (await run(["docker", "inspect", "-f", "{{.State.StartedAt}}", name])).stdout.trim();
    const id = (await run(["docker", "inspect", "-f", "{{.Id}}", name])).stdout.trim();
    createJournal(journalDir()).record({
      ...{ runId: "restore-old", pid: 2 ** 22 + 7, unit: name, containerId: id, containerName: `/${name}` },
      ...{
        stoppedAt: new Date(Date.parse(startedAt) - 60_000).toISOString(),
        startedAt: "2020-01-01T00:00:00Z",
      },
      hold: `restore restore-old of ${name} was replacing its data when it ended`,
    });
    const r = await cli(["recover"]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain("Its restart policy is always, so docker may have started it by itself");
    expect(createJournal(journalDir()).entries()).toEqual([]);
  }, 120_000);
});

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

// A container stopped before an in-place restore (crashed, or stopped by hand) that uses the data
// being restored: the restore never stopped it, so it never held it. Killed mid-data, it left no
// journal entry and the restart policy `always` in place: dockerd started it on half-restored data at
// its next start, and the next backup saved that as the newest point. It is held now like the ones the
// restore stops, and a restore of the unit that finishes ends the hold. Ending a hold puts the saved
// restart policy back only over the hold's `no` (an admin's change stays), and a whole restore with
// `--start` starts the container whose hold it ended, as its plan says.
const SOURCE_CLI = [process.execPath, join(import.meta.dir, "..", "..", "src", "cli.ts")];
const runner = createBunRunner();
/** 24 files of 8 MiB: long enough for kopia's restore to be caught while it writes. */
const FILL = "for i in $(seq 1 24); do head -c 8388608 /dev/urandom > /data/big$i; done";

describeReal(
  "restore: holds on the containers using the data it replaces",
  ["docker", "kopia", "image"],
  () => {
    const dir = tempDir("kd-hold-stopped-");
    const name = uniqueName("kdt-hold-stopped");
    const volume = `${name}-v`;
    const journalDir = () => join(dir.path, "state", "journal");
    let config = "";
    let mountpoint = "";
    /** The files' checksums at the backup, as the container reads them. */
    let sums = "";

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
    const checksums = async () =>
      (await run(["docker", "exec", name, "sh", "-c", "cd /data && md5sum big*"])).stdout;
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
    /**
     * Stops the container (unless `running`: the restore stops it), changes its files, and SIGKILLs
     * `restore <args>` while kopia writes into the volume.
     */
    async function killedRestore(args: string[], o: { running?: boolean } = {}) {
      if (o.running && !(await running())) await run(["docker", "start", name]);
      if (!o.running) await run(["docker", "stop", "-t", "2", name]);
      const change = "rm -f /data/big1; echo changed > /data/big2";
      await run(["docker", "run", "--rm", "-v", `${volume}:/data`, TEST_IMAGE, "sh", "-c", change]);
      const result = cli(["restore", "--unit", name, "--latest", "--yes", ...args]);
      const child = runningChildren().find((c) => c.argv.includes(config) && c.argv.includes("restore"));
      if (!child) throw new Error("restore not tracked");
      let seen = false;
      for (let i = 0; i < 3000 && !seen; i++) {
        seen = kopiaRestoring();
        if (!seen) await Bun.sleep(10);
      }
      expect(seen).toBe(true);
      process.kill(child.pid, "SIGKILL");
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
      sums = await checksums();
      const r = await cli(["backup", "--unit", name]);
      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    }, 240_000);

    afterAll(async () => {
      await run(["docker", "rm", "-f", name], { check: false });
      await run(["docker", "volume", "rm", "-f", volume], { check: false });
      dir.remove();
    }, 60_000);

    test("SIGKILL mid-data: held with policy no, doctor names it, recover leaves it; a whole restore ends the hold", async () => {
      await killedRestore(["--start"]);
      const held = createJournal(journalDir()).entries();
      expect(held.map((e) => [e.containerName, Boolean(e.hold), e.alreadyStopped, e.heldPolicy])).toEqual([
        [`/${name}`, true, true, { name: "always", maximumRetryCount: 0 }],
      ]);
      expect(await policy()).toBe('{"Name":"no","MaximumRetryCount":0}');
      const doctor = await cli(["doctor"]);
      expect(doctor.stdout).toContain(`${name} (restore`);
      expect(doctor.stdout).toContain("restart policy held at no, was always");
      const recover = await cli(["recover"]);
      expect(recover.exitCode).not.toBe(0);
      expect(recover.stderr).toContain(`${name} stays stopped`);
      expect(await running()).toBe(false);
      // A restore of the unit that finishes: the policy back, the container left as it was (stopped).
      const whole = await cli(["restore", "--unit", name, "--latest", "--yes"]);
      expect({ exit: whole.exitCode, stderr: whole.stderr }).toMatchObject({ exit: 0 });
      expect(await policy()).toBe('{"Name":"always","MaximumRetryCount":0}');
      expect(await running()).toBe(false);
      expect(createJournal(journalDir()).entries()).toEqual([]);
      await run(["docker", "start", name]);
      expect(await checksums()).toBe(sums);
    }, 300_000);

    test("a policy the admin set while it was held is kept when the hold ends, and said", async () => {
      await run(["docker", "update", "--restart=on-failure:5", name]);
      await killedRestore([], { running: true });
      expect(await policy()).toBe('{"Name":"no","MaximumRetryCount":0}');
      await run(["docker", "update", "--restart=unless-stopped", name]);
      const whole = await cli(["restore", "--unit", name, "--latest", "--yes"]);
      expect({ exit: whole.exitCode, stderr: whole.stderr }).toMatchObject({ exit: 0 });
      expect(whole.stderr).toContain(`${name}: restart policy unless-stopped kept`);
      expect(await policy()).toBe('{"Name":"unless-stopped","MaximumRetryCount":0}');
      expect(createJournal(journalDir()).entries()).toEqual([]);
    }, 300_000);

    test("a whole restore with --start after a killed one ends the hold and starts the container, as its plan says", async () => {
      await run(["docker", "update", "--restart=always", name]);
      await killedRestore([], { running: true });
      const dry = await cli(["restore", "--unit", name, "--latest", "--start", "--dry-run"]);
      expect(dry.stdout).toContain(`start      ${name} (exists, held): docker start, once this restore`);
      expect(dry.stdout).not.toContain("then start it");
      const whole = await cli(["restore", "--unit", name, "--latest", "--start", "--yes"]);
      expect({ exit: whole.exitCode, stderr: whole.stderr }).toMatchObject({ exit: 0 });
      expect(whole.stderr).toContain(`starting ${name} with the unit`);
      expect(await running()).toBe(true);
      expect(await policy()).toBe('{"Name":"always","MaximumRetryCount":0}');
      expect(createJournal(journalDir()).entries()).toEqual([]);
      expect(await checksums()).toBe(sums);
    }, 300_000);
  },
);

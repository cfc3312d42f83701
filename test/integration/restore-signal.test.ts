import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createJournal } from "../../src/core/containers/journal.ts";
import { runningChildren } from "../../src/core/process/children.ts";
import { createBunRunner, type RunResult } from "../../src/core/process/runner.ts";
import {
  describeReal,
  run,
  TEST_IMAGE,
  tempDir,
  uniqueName,
  volumeMountpoint,
  writeTestConfig,
} from "../helpers/env.ts";
import { processesLeftBy } from "../helpers/processes.ts";
import { describeTree } from "../helpers/tree.ts";

// SIGTERM / SIGINT while kopia restores a biggish volume in place (issue #5 and #6 "Restore aborted
// mid-way"): exit 143/130, no child left, the container restore stopped stays stopped and is listed,
// the undo point is named (and exists), and no temp data of the run remains.
const SOURCE_CLI = [process.execPath, join(import.meta.dir, "..", "..", "src", "cli.ts")];
const runner = createBunRunner();
const hasTmux = Bun.spawnSync(["tmux", "-V"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
/** 24 files of 8 MiB: long enough for kopia's restore to be caught while it writes. */
const FILL =
  "for i in $(seq 1 24); do head -c 8388608 /dev/urandom > /data/big$i; done; echo keep > /data/keep";

describeReal("restore: a signal mid-restore", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kd-restore-sig-");
  const name = uniqueName("kdt-restore-sig");
  const volume = `${name}-v`;
  let config = "";
  let mountpoint = "";
  let atBackup: ReturnType<typeof describeTree>;

  const cli = (args: string[]) =>
    runner.run([...SOURCE_CLI, ...args, "--config", config], {
      check: false,
      env: { NO_COLOR: "1", CI: "true", TZ: "Etc/UTC", KOPI_DOCKA_CONFIG: undefined },
      timeoutMs: 180_000,
    });
  /** The data as the container sees it: each file's name, mode, owner, size, mtime and SHA-256. */
  const inside = async () =>
    (
      await run([
        "docker",
        "exec",
        name,
        "sh",
        "-c",
        'cd /data && find . -type f | sort | while read -r f; do stat -c \'%n %a %u %s %Y\' "$f"; sha256sum "$f"; done',
      ])
    ).stdout;
  let atBackupInside = "";
  const running = async () =>
    (await run(["docker", "inspect", "-f", "{{.State.Running}}", name])).stdout.trim() === "true";

  /** True while a `kopia snapshot <sub>` of the volume runs: `restore` into it, or `create` of it (the undo point). */
  function kopiaOnVolume(sub: "restore" | "create"): boolean {
    for (const p of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
      try {
        const cmd = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
        if (cmd.includes(sub) && cmd.includes(mountpoint) && cmd.includes("snapshot")) return true;
      } catch {
        // gone
      }
    }
    return false;
  }
  const kopiaRestoring = () => kopiaOnVolume("restore");

  /** Starts `restore --latest` and returns once `when` holds, with the restore's process. */
  async function restoreUntil(when: () => boolean) {
    const result: Promise<RunResult> = cli(["restore", "--unit", name, "--latest", "--yes"]);
    const child = runningChildren().find((c) => c.argv.includes(config) && c.argv.includes("restore"));
    if (!child) throw new Error("restore not tracked");
    let seen = false;
    for (let i = 0; i < 3000 && !seen; i++) {
      seen = when();
      if (!seen) await Bun.sleep(10);
    }
    expect(seen).toBe(true);
    return { child, result };
  }

  beforeAll(async () => {
    config = writeTestConfig(dir.path, "[backup]\nstop_timeout = 2\n");
    await run([
      ...["docker", "run", "-d", "--name", name, "-v", `${volume}:/data`, TEST_IMAGE],
      ...["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"],
    ]);
    await run(["docker", "exec", name, "sh", "-c", FILL], { timeoutMs: 120_000 });
    mountpoint = await volumeMountpoint(volume);
    atBackup = describeTree(mountpoint);
    atBackupInside = await inside();
    expect(atBackupInside.match(/^\.\/big\d+ 644 0 8388608 /gm)).toHaveLength(24);
    const r = await cli(["backup", "--unit", name]);
    expect(r.stderr).not.toMatch(/\berror\b/); // not the policy flag --ignore-file-errors=false
    expect(r.exitCode).toBe(0);
  }, 240_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
    await run(["docker", "volume", "rm", "-f", volume], { check: false });
    dir.remove();
  }, 60_000);

  for (const [sig, status] of [
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const) {
    test(`${sig} while kopia restores: exit ${status}, container stays stopped and is listed, undo point named, nothing left`, async () => {
      if (!(await running())) await run(["docker", "start", name]);
      // Changed after the backup: the big files must be written back, which takes a while.
      await run(["docker", "exec", name, "sh", "-c", "rm -f /data/big* && echo changed > /data/keep"]);
      const { child, result } = await restoreUntil(kopiaRestoring);
      process.kill(child.pid, sig);
      const r = await result;

      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: status });
      const left = await processesLeftBy(child.pid, dir.path);
      expect(left).toEqual([]);
      expect(await running()).toBe(false);
      expect(r.stderr).toMatch(new RegExp(`left stopped.*${name}`));
      expect(r.stderr).toContain(`volume ${volume} was being restored`);
      const undo = r.stderr.match(/--run (\S+@restore-\S+)/)?.[1];
      expect(undo).toBeDefined();
      const listed = JSON.parse((await cli(["snapshots", "--json"])).stdout) as {
        undoPoints: { key: string; volumes: { name: string }[] }[];
      };
      expect(listed.undoPoints.find((p) => p.key === undo)?.volumes.map((v) => v.name)).toEqual([volume]);
      // Temp data of a restore: the recipe read into <cache>/restore/<run>; the lock file.
      const tempRoot = join(dir.path, "cache", "restore");
      expect(existsSync(tempRoot) ? readdirSync(tempRoot) : []).toEqual([]);
      expect(existsSync(join(dir.path, "kopi-docka.lock"))).toBe(false);

      // The container was left stopped, so a second restore stops nothing and completes.
      const again = await cli(["restore", "--unit", name, "--latest", "--yes"]);
      expect({ exit: again.exitCode, stderr: again.stderr }).toMatchObject({ exit: 0 });
      expect(describeTree(mountpoint)).toEqual(atBackup);
      expect(await running()).toBe(false);
    }, 240_000);
  }

  /** Starts `restore --latest`, waits until `when` holds, then SIGKILLs it (no compensation runs). */
  async function killRestoreWhen(when: () => boolean): Promise<void> {
    const { child, result } = await restoreUntil(when);
    process.kill(child.pid, "SIGKILL");
    expect((await result).exitCode).not.toBe(0);
  }

  test("SIGKILL before any data was replaced (the undo point): recover starts the container on its untouched data", async () => {
    if (!(await running())) await run(["docker", "start", name]);
    await run(["docker", "exec", name, "sh", "-c", "echo changed > /data/keep"]);
    const before = describeTree(mountpoint);
    const beforeInside = await inside();
    await killRestoreWhen(() => kopiaOnVolume("create"));
    expect(await running()).toBe(false);
    const r = await cli(["recover"]);
    expect({ exit: r.exitCode, out: r.stdout }).toMatchObject({ exit: 0 });
    expect(r.stdout).toContain(`started  ${name}`);
    expect(await running()).toBe(true);
    expect(describeTree(mountpoint)).toEqual(before);
    expect(await inside()).toBe(beforeInside);
    expect(readdirSync(join(dir.path, "state", "journal")).filter((f) => f.endsWith(".json"))).toEqual([]);
  }, 240_000);

  test("SIGKILL while kopia replaces the data: recover leaves it stopped and says why at every run; a finished restore settles it", async () => {
    if (!(await running())) await run(["docker", "start", name]);
    await run(["docker", "exec", name, "sh", "-c", "rm -f /data/big* && echo changed > /data/keep"]);
    await killRestoreWhen(kopiaRestoring);
    expect(await running()).toBe(false);
    for (let i = 0; i < 2; i++) {
      const r = await cli(["recover"]);
      expect(r.exitCode).toBe(4);
      expect(r.stdout).toMatch(
        new RegExp(`HELD +${name} stays stopped: restore \\S+ of ${name} was replacing its data`),
      );
      expect(r.stdout).toMatch(/or go back: kopi-docka restore --unit \S+ --run \S+@restore-/);
      expect(await running()).toBe(false);
    }
    const again = await cli(["restore", "--unit", name, "--latest", "--yes"]);
    expect({ exit: again.exitCode, stderr: again.stderr }).toMatchObject({ exit: 0 });
    expect(again.stderr).toContain(`stays stopped: restore`);
    expect(again.stderr).toContain(
      `finished what an interrupted restore left half done: start ${name} when ready`,
    );
    expect(describeTree(mountpoint)).toEqual(atBackup);
    expect(await running()).toBe(false);
    const settled = await cli(["recover"]);
    expect({ exit: settled.exitCode, out: settled.stdout }).toMatchObject({ exit: 0 });
    expect(settled.stdout).toContain("Nothing to recover");
    await run(["docker", "start", name]);
    expect(await inside()).toBe(atBackupInside);
  }, 240_000);

  test("a container a dead run left stopped is started by the journal heal first, then stopped and started by restore", async () => {
    if (!(await running())) await run(["docker", "start", name]);
    await run(["docker", "exec", name, "sh", "-c", "echo changed > /data/keep"]);
    const journalDir = join(dir.path, "state", "journal");
    const startedAt = (await run(["docker", "inspect", "-f", "{{.State.StartedAt}}", name])).stdout.trim();
    createJournal(journalDir).record({
      runId: "20250101T000000Z-dead00",
      pid: Bun.spawnSync(["true"]).pid,
      pidStartTime: 1,
      unit: name,
      containerId: (await run(["docker", "inspect", "-f", "{{.Id}}", name])).stdout.trim(),
      containerName: name,
      stoppedAt: new Date().toISOString(),
      startedAt,
    });
    await run(["docker", "stop", "-t", "2", name]);

    const r = await cli(["restore", "--unit", name, "--latest", "--yes"]);
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    const lines = r.stderr.split("\n");
    const healed = lines.findIndex((l) => l.includes(`recovered: started ${name}`));
    expect(healed).toBeGreaterThanOrEqual(0);
    expect(lines.findIndex((l) => l.includes(`stopping ${name}`))).toBeGreaterThan(healed);
    expect(readdirSync(journalDir)).toEqual([]);
    expect(await running()).toBe(true);
    expect(describeTree(mountpoint)).toEqual(atBackup);
    expect(await inside()).toBe(atBackupInside);
  }, 240_000);

  test.skipIf(!hasTmux)(
    "on a terminal, kopia's restore progress is drawn as a live line: bytes and files of the total",
    async () => {
      await run(["docker", "exec", name, "sh", "-c", "rm -f /data/big*"]);
      const session = uniqueName("kdt-restore-sig-tty");
      const argv = [...SOURCE_CLI, "restore", "--config", config, "--unit", name, "--latest", "--yes"];
      const screen = async () => (await run(["tmux", "capture-pane", "-p", "-t", session])).stdout;
      try {
        // pipe-pane records every redraw; the second's sleep lets it attach before the run starts.
        const raw = join(dir.path, "tty.log");
        const cmd = `sleep 1; env -u CI NO_COLOR=1 ${argv.join(" ")}; echo EXIT=$?; sleep 60`;
        await run(["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "50", cmd]);
        await run(["tmux", "pipe-pane", "-o", "-t", session, `cat >> ${raw}`]);
        let text = "";
        for (let i = 0; i < 600 && !text.includes("EXIT="); i++) {
          await Bun.sleep(200);
          text = await screen();
        }
        expect(text).toContain("EXIT=0");
        // Left standing: the snapshot's exact size; redrawn before it: kopia's counts against the total.
        expect(text).toMatch(new RegExp(`volume ${volume}: 192.0 MiB in 25 files restored, `));
        expect(readFileSync(raw, "utf8")).toMatch(
          new RegExp(
            `\\r\\x1b\\[2Kvolume ${volume}: [\\d.]+ MiB of [\\d.]+ MiB \\(\\d+%\\), \\d+ of \\d+ files`,
          ),
        );
      } finally {
        await run(["tmux", "kill-session", "-t", session], { check: false });
      }
      expect(describeTree(mountpoint)).toEqual(atBackup);
    },
    240_000,
  );
});

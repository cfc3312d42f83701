import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBackup } from "../../src/core/backup/run.ts";
import { createBunRunner } from "../../src/core/process/runner.ts";
import { type Btrfs, bindVolume, makeBtrfs } from "../helpers/btrfs.ts";
import { describeReal, run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { describeTree } from "../helpers/tree.ts";
import { bareRestore, coreDeps } from "./backup-helpers.ts";

// mode = "fs-snapshot" against what its filesystem can do to it. A container that mounts the
// subvolume root holding a unit's data sees the snapshot made there: it renames the snapshot away and
// puts a link to a host directory at its name, again and again. kopia must read the snapshot made,
// never the link's target: each point holds the volume's bytes (or the unit fails). And a filesystem
// frozen under the snapshot (fsfreeze: btrfs stuck in the kernel, its kill ignored) must not keep the
// service down past max_cold_seconds; the snapshot it makes after the thaw is removed, by the run or,
// when the run is gone, by `recover` from the journal.
const SOURCE_CLI = [process.execPath, join(import.meta.dir, "..", "..", "src", "cli.ts")];
const IDLE = "trap 'exit 0' TERM; while true; do sleep 0.2; done";
const MAX_COLD = 3;
const runner = createBunRunner();

describeReal("fs-snapshot against a hostile or frozen filesystem", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-fsh-");
  const mnt = join(dir.path, "btrfs");
  const secret = join(dir.path, "host-secret");
  const victim = uniqueName("kdt-fsh-v");
  const attacker = uniqueName("kdt-fsh-a");
  const frozen = uniqueName("kdt-fsh-f");
  const whole = uniqueName("kdt-fsh-w");
  const volume = `${victim}-v`;
  let btrfs: Btrfs | undefined;
  let config = "";
  const env = { NO_COLOR: "1", CI: "true", KOPI_DOCKA_CONFIG: "" };
  const snapJournal = () => join(dir.path, "kd", "state", "journal", "fs-snapshots");
  const ourSubvolumes = async () =>
    (await run(["btrfs", "subvolume", "list", mnt])).stdout
      .split("\n")
      .filter((l) => l.includes(".kopi-docka-snap-") || l.includes("away"));
  const state = async (name: string) =>
    JSON.parse((await run(["docker", "inspect", "-f", "{{json .State}}", name])).stdout) as {
      Running: boolean;
    };
  const start = (name: string, args: string[], script: string) =>
    run(["docker", "run", "-d", "--name", name, ...args, TEST_IMAGE, "sh", "-c", script]);

  beforeAll(async () => {
    btrfs = await makeBtrfs(dir.path, 1024 ** 3);
    await run(["btrfs", "subvolume", "create", join(mnt, "vol1")]);
    const data = join(mnt, "vol1", "data");
    mkdirSync(join(data, "sub"), { recursive: true });
    for (let i = 0; i < 5; i++) writeFileSync(join(data, "sub", `real${i}`), `the volume's own bytes ${i}\n`);
    // A bind source that is a whole subvolume: its snapshot is made beside it and read at its root.
    await run(["btrfs", "subvolume", "create", join(mnt, "whole")]);
    writeFileSync(join(mnt, "whole", "w"), "a whole subvolume's bytes\n");
    mkdirSync(join(mnt, "frz"));
    writeFileSync(join(mnt, "frz", "f"), "frozen unit's data\n");
    // A host directory only root reads, shaped like the subvolume root (a `data` in it): what the
    // planted link points at, so that `<link>/data` leads kopia into it.
    mkdirSync(join(secret, "data"), { recursive: true, mode: 0o700 });
    writeFileSync(join(secret, "data", "key"), "TOPSECRET\n", { mode: 0o600 });
    const units = `[units.${victim}]\nmode = "fs-snapshot"\n\n[units.${whole}]\nmode = "fs-snapshot"\n\n[units.${frozen}]\nmode = "fs-snapshot"\nmax_cold_seconds = ${MAX_COLD}\n`;
    config = writeTestConfig(join(dir.path, "kd"), `[backup]\nstop_timeout = 10\n\n${units}`);
    await bindVolume(volume, data);
    await start(victim, ["-v", `${volume}:/data`], IDLE);
    await start(frozen, ["-v", `${join(mnt, "frz")}:/data`], IDLE);
    await start(whole, ["-v", `${join(mnt, "whole")}:/data`], IDLE);
    // Sees the subvolume root: each snapshot of ours that appears is moved away and a link put at its
    // name, every other time 150 ms later (once kopi-docka has looked at it, before kopia opens it).
    const swap = `n=0; while true; do for f in /mnt/.kopi-docka-snap-*; do [ -d "$f" ] && [ ! -L "$f" ] && { [ $((n % 2)) -eq 0 ] && sleep 0.15; mv "$f" /mnt/away$n; n=$((n+1)); ln -s ${secret} "$f"; }; done; sleep 0.01; done`;
    await start(attacker, ["-l", "kopi-docka.mode=live", "-v", `${join(mnt, "vol1")}:/mnt`], swap);
  }, 180_000);

  afterAll(async () => {
    await run(["fsfreeze", "-u", mnt], { check: false });
    for (const n of [victim, attacker, frozen, whole]) await run(["docker", "rm", "-f", n], { check: false });
    await run(["docker", "volume", "rm", "-f", volume], { check: false });
    await btrfs?.remove();
    dir.remove();
  }, 120_000);

  test("the snapshot swapped for a link to a host directory, again and again: each point holds the volume's bytes, never the link's target", async () => {
    const deps = coreDeps(config);
    const links = () => readdirSync(join(mnt, "vol1")).filter((n) => n.startsWith(".kopi-docka-snap-"));
    for (let i = 0; i < 3; i++) {
      const before = links().length;
      const record = await runBackup(deps, { units: [victim] });
      // The container did swap it (a link of its own at our name now), after we had made it.
      expect({ run: i, swapped: links().length }).toEqual({ run: i, swapped: before + 1 });
      const vol = record.units[0]?.sources.find((s) => s.type === "volume");
      expect({ run: i, status: record.status, vol: vol?.status, reason: vol?.reason }).toEqual({
        run: i,
        status: "ok",
        vol: "ok",
        reason: undefined,
      });
      const target = join(dir.path, `restored-${i}`);
      await bareRestore(deps, vol?.snapshotId ?? "", target);
      expect(JSON.stringify(describeTree(target))).not.toContain("key");
      const files = readdirSync(join(target, "sub")).sort();
      expect(files).toEqual(["real0", "real1", "real2", "real3", "real4"]);
      expect(readFileSync(join(target, "sub", "real3"), "utf8")).toBe("the volume's own bytes 3\n");
      // Ours removed by its id, wherever the container moved it; the host directory untouched.
      expect(await ourSubvolumes()).toEqual([]);
      expect(readdirSync(snapJournal())).toEqual([]);
      expect(readFileSync(join(secret, "data", "key"), "utf8")).toBe("TOPSECRET\n");
    }
    expect((await state(victim)).Running).toBe(true);
  }, 600_000);

  test("a whole subvolume as the data: read from its snapshot, which is removed", async () => {
    const deps = coreDeps(config);
    const record = await runBackup(deps, { units: [whole] });
    const bind = record.units[0]?.sources.find((s) => s.type === "bind");
    expect({ status: record.status, warnings: record.units[0]?.warnings, bind: bind?.status }).toEqual({
      status: "ok",
      warnings: undefined,
      bind: "ok",
    });
    const target = join(dir.path, "restored-whole");
    await bareRestore(deps, bind?.snapshotId ?? "", target);
    expect(readFileSync(join(target, "w"), "utf8")).toBe("a whole subvolume's bytes\n");
    expect(await ourSubvolumes()).toEqual([]);
    expect(readdirSync(snapJournal())).toEqual([]);
  }, 300_000);

  test(`btrfs stuck under a frozen filesystem: the container runs again within max_cold_seconds (${MAX_COLD} s), the snapshot made after the thaw is removed by the run`, async () => {
    await run(["docker", "rm", "-f", attacker]);
    await run(["fsfreeze", "-f", mnt]);
    const thawAt = Date.now() + 20_000;
    let thawed = false;
    const thaw = Bun.sleep(20_000).then(async () => {
      await run(["fsfreeze", "-u", mnt]);
      thawed = true;
    });
    const child = Bun.spawn([...SOURCE_CLI, "backup", "--unit", frozen, "--config", config], {
      env: { ...process.env, ...env },
      stdout: "ignore",
      stderr: "pipe",
    });
    const down = await downtime(frozen, thawAt);
    expect({ stopped: down.stoppedAt > 0, frozenStill: !thawed }).toEqual({
      stopped: true,
      frozenStill: true,
    });
    expect(down.ms).toBeLessThan((MAX_COLD + 4) * 1000);
    const code = await child.exited;
    const stderr = await new Response(child.stderr).text();
    await thaw;
    expect({ code, stderr: stderr.includes("cancelled: the cold window passed max_cold_seconds") }).toEqual({
      code: 1,
      stderr: true,
    });
    expect(Date.now()).toBeGreaterThanOrEqual(thawAt);
    expect(await ourSubvolumes()).toEqual([]);
    expect(readdirSync(snapJournal())).toEqual([]);
    expect((await state(frozen)).Running).toBe(true);
  }, 300_000);

  test("the run killed while btrfs is still stuck: the journal keeps the snapshot, `recover` after the thaw removes it", async () => {
    await run(["fsfreeze", "-f", mnt]);
    try {
      const child = Bun.spawn([...SOURCE_CLI, "backup", "--unit", frozen, "--config", config], {
        env: { ...process.env, ...env },
        stdout: "ignore",
        stderr: "ignore",
      });
      const down = await downtime(frozen, Date.now() + 60_000);
      expect(down.ms).toBeLessThan((MAX_COLD + 4) * 1000);
      child.kill("SIGKILL");
      await child.exited;
      expect(readdirSync(snapJournal()).length).toBe(1);
      // Still frozen: its create may yet make it; recover keeps the entry.
      const early = await cli(["recover", "--json"]);
      expect(JSON.parse(early.stdout).snapshots.failed[0]?.reason).toContain("still runs");
      expect(readdirSync(snapJournal()).length).toBe(1);
    } finally {
      await run(["fsfreeze", "-u", mnt]);
    }
    const late = await waitFor(async () => {
      const r = await cli(["recover", "--json"]);
      return r.exitCode === 0 && readdirSync(snapJournal()).length === 0;
    });
    expect(late).toBe(true);
    expect(await ourSubvolumes()).toEqual([]);
    expect((await state(frozen)).Running).toBe(true);
  }, 300_000);

  function cli(args: string[]) {
    return runner.run([...SOURCE_CLI, ...args, "--config", config], {
      check: false,
      env,
      timeoutMs: 300_000,
    });
  }

  /** Polls `name` until it stops and runs again (or `until`): when it stopped and for how long. */
  async function downtime(name: string, until: number): Promise<{ stoppedAt: number; ms: number }> {
    let stoppedAt = 0;
    while (Date.now() < until) {
      const running = (await state(name)).Running;
      if (!running && stoppedAt === 0) stoppedAt = Date.now();
      if (running && stoppedAt > 0) return { stoppedAt, ms: Date.now() - stoppedAt };
      await Bun.sleep(50);
    }
    return { stoppedAt, ms: Number.POSITIVE_INFINITY };
  }

  async function waitFor(check: () => Promise<boolean>, ms = 60_000): Promise<boolean> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (await check()) return true;
      await Bun.sleep(1000);
    }
    return false;
  }
});

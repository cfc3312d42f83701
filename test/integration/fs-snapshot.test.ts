import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runBackup } from "../../src/core/backup/run.ts";
import { btrfs as btrfsDriver } from "../../src/core/fs-snapshot/btrfs.ts";
import { parseShow } from "../../src/core/fs-snapshot/btrfs-subvolume.ts";
import { createBunRunner } from "../../src/core/process/runner.ts";
import { type Btrfs, bindVolume, makeBtrfs } from "../helpers/btrfs.ts";
import { describeReal, run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { describeTree } from "../helpers/tree.ts";
import { bareRestore, coreDeps } from "./backup-helpers.ts";

// mode = "fs-snapshot" on a btrfs filesystem this test makes on a loop device. What must hold: the
// restored data is the data at stop time although the writer runs again while kopia reads (it reads
// the frozen snapshot, never the live data); the snapshot is recorded under the volume's usual
// identity and tags; the frozen window stays under a second; the btrfs snapshot is gone after
// success, a failed kopia, SIGTERM, and SIGKILL + `recover`; a unit with data off btrfs is backed up
// cold, saying so, and `backup --dry-run` tells each source's way beforehand.
const RUNS = Number(process.env.KD_FSSNAP_RUNS ?? 20);
const SOURCE_CLI = [process.execPath, join(import.meta.dir, "..", "..", "src", "cli.ts")];
const IDLE = "trap 'exit 0' TERM; while true; do sleep 0.2; done";
const runner = createBunRunner();

/**
 * Rewrites 8 files with same-size content, renames and deletes, with no pause, with a nonce of this
 * start in every line. On SIGTERM it copies its tree to /stop/w (the data at stop time) and exits;
 * started again it writes at once: the live data is never the stop-time data while kopia reads.
 */
const WRITER = `
cd /data
mkdir -p w
b=$(cat /proc/sys/kernel/random/uuid)
i=0
trap 'rm -rf /stop/w.tmp; cp -a w /stop/w.tmp && rm -rf /stop/w && mv /stop/w.tmp /stop/w; exit 0' TERM
while true; do
  i=$((i+1))
  for k in 0 1 2 3 4 5 6 7; do printf '%s-%08d-%s\\n' "$b" "$i" "$k" > w/same$k; done
  echo "$b $i" > w/tmp && mv w/tmp w/renamed$((i % 5))
  rm -f w/del$((i % 3)); echo "$b $i" > w/del$(((i + 1) % 3))
done
`;

/** Content and shape of a tree, not its mtimes (busybox `cp -a` keeps them to the second only). */
const nonceOf = (line: string) => line.slice(0, 36);
const shape = (root: string) =>
  Object.fromEntries(Object.entries(describeTree(root)).map(([k, { mtimeMs: _, ...v }]) => [k, v]));

describeReal("fs-snapshot on btrfs", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-fssnap-");
  const mnt = join(dir.path, "btrfs");
  const writer = uniqueName("kdt-fss-w");
  const big = uniqueName("kdt-fss-b");
  const offBtrfs = uniqueName("kdt-fss-o");
  const mounted = uniqueName("kdt-fss-m");
  const volumes = { writer: `${writer}-v`, big: `${big}-v`, off: `${offBtrfs}-v` };
  let btrfs: Btrfs | undefined;
  let config = "";
  let coldConfig = "";
  const env = { NO_COLOR: "1", CI: "true", KOPI_DOCKA_CONFIG: undefined };
  const cli = (args: string[]) =>
    runner.run([...SOURCE_CLI, ...args, "--config", config], { check: false, env, timeoutMs: 300_000 });
  const leftovers = () => readdirSync(mnt).filter((n) => n.startsWith(".kopi-docka-snap-"));
  const subvolumes = async () => (await run(["btrfs", "subvolume", "list", mnt])).stdout.trim();
  const snapJournal = () => join(dir.path, "kd", "state", "journal", "fs-snapshots");
  const fillBig = () =>
    run(["sh", "-c", `for i in $(seq 1 40); do head -c 8000000 /dev/urandom > ${mnt}/big/f$i; done`]);
  const running = async (name: string) =>
    (await run(["docker", "inspect", "-f", "{{.State.Running}}", name])).stdout.trim() === "true";

  beforeAll(async () => {
    btrfs = await makeBtrfs(dir.path, 2 * 1024 ** 3);
    for (const d of ["vol", "stop", "big"]) mkdirSync(join(mnt, d));
    const units = `[units.${writer}]\nmode = "fs-snapshot"\n\n[units.${big}]\nmode = "fs-snapshot"\n\n[units.${offBtrfs}]\nmode = "fs-snapshot"\n\n[units.${mounted}]\nmode = "fs-snapshot"\n`;
    config = writeTestConfig(join(dir.path, "kd"), `[backup]\nstop_timeout = 10\n\n${units}`);
    coldConfig = join(dir.path, "kd", "cold.toml");
    writeFileSync(coldConfig, readFileSync(config, "utf8").replaceAll('"fs-snapshot"', '"cold"'));
    await bindVolume(volumes.writer, join(mnt, "vol"));
    await run(["docker", "volume", "create", volumes.off]);
    await fillBig();
    const start = (name: string, mounts: string[], script: string) =>
      run([
        "docker",
        "run",
        "-d",
        "--name",
        name,
        ...mounts.flatMap((m) => ["-v", m]),
        TEST_IMAGE,
        "sh",
        "-c",
        script,
      ]);
    await start(writer, [`${volumes.writer}:/data`, `${join(mnt, "stop")}:/stop`], WRITER);
    await start(big, [`${join(mnt, "big")}:/data`], IDLE);
    await start(offBtrfs, [`${volumes.off}:/data`], IDLE);
    // A tmpfs inside a bind source on btrfs: a snapshot of the subvolume would hold its empty mount point.
    mkdirSync(join(mnt, "mounted", "inner"), { recursive: true });
    await run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", join(mnt, "mounted", "inner")]);
    writeFileSync(join(mnt, "mounted", "top"), "on btrfs\n");
    writeFileSync(join(mnt, "mounted", "inner", "f"), "in the tmpfs\n");
    await start(mounted, [`${join(mnt, "mounted")}:/data`], IDLE);
  }, 180_000);

  afterAll(async () => {
    for (const n of [writer, big, offBtrfs, mounted]) await run(["docker", "rm", "-f", n], { check: false });
    await run(["umount", join(mnt, "mounted", "inner")], { check: false });
    for (const v of Object.values(volumes)) await run(["docker", "volume", "rm", "-f", v], { check: false });
    await btrfs?.remove();
    dir.remove();
  }, 120_000);

  test("backup --dry-run tells per source: fs-snapshot of which subvolume, or cold and why", async () => {
    const r = await cli(["backup", "--dry-run", "--unit", writer, "--unit", offBtrfs]);
    expect({ exit: r.exitCode, err: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, err: "" });
    expect(r.stdout).toContain(
      `volume ${volumes.writer}: fs-snapshot of btrfs subvolume ${mnt}, read at vol`,
    );
    expect(r.stdout).toContain(
      `bind ${join(mnt, "stop")}: fs-snapshot of btrfs subvolume ${mnt}, read at stop`,
    );
    expect(r.stdout).toMatch(
      new RegExp(`volume ${volumes.off}: cold: not on a filesystem kopi-docka can snapshot`),
    );
    expect(r.stdout).toContain("the whole unit is backed up cold");
  }, 120_000);

  test(`${RUNS} backups of a volume rewritten until the stop and again from the start: each restores to the stop-time bytes`, async () => {
    const deps = coreDeps(config);
    const frozen: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const record = await runBackup(deps, { units: [writer] });
      expect({
        run: i,
        status: record.status,
        errors: record.units[0]?.errors,
        warnings: record.units[0]?.warnings,
      }).toEqual({
        run: i,
        status: "ok",
        errors: [],
        warnings: undefined,
      });
      frozen.push(record.units[0]?.frozenWindowMs ?? -1);
      expect(leftovers()).toEqual([]);
      const vol = record.units[0]?.sources.find((s) => s.type === "volume");
      const target = join(dir.path, `restored-${i}`);
      await bareRestore(deps, vol?.snapshotId ?? "", target);
      const stopTime = join(mnt, "stop", "w");
      expect({ run: i, tree: shape(join(target, "w")) }).toEqual({ run: i, tree: shape(stopTime) });
      // The writer runs again (its start's nonce in every line): the live data is not the stop-time data.
      expect(await liveNonce()).not.toBe(nonceOf(readFileSync(join(stopTime, "same0"), "utf8")));
      // The bytes again, read by a container from the restored data and from the stop-time copy.
      const sums = await run([
        "docker",
        "run",
        "--rm",
        "-v",
        `${target}:/r:ro`,
        "-v",
        `${join(mnt, "stop")}:/s:ro`,
        TEST_IMAGE,
        "sh",
        "-c",
        "cd /r/w && sha256sum $(ls | sort); echo ---; cd /s/w && sha256sum $(ls | sort)",
      ]);
      const [restored, atStop] = sums.stdout.split("---\n");
      expect({ run: i, restored }).toEqual({ run: i, restored: atStop });
      expect(restored?.split("\n").filter(Boolean).length).toBeGreaterThanOrEqual(8);
      rmSync(target, { recursive: true, force: true });
    }
    const median = [...frozen].sort((a, b) => a - b)[Math.floor(frozen.length / 2)] ?? -1;
    console.log(`fs-snapshot: ${RUNS} runs, frozen windows ms: ${frozen.join(" ")} (median ${median})`);
    expect(median).toBeGreaterThanOrEqual(0);
    expect(median).toBeLessThan(1000);
    expect(await subvolumes()).toBe("");
  }, 1_800_000);

  test("recorded under the volume's usual source identity and tags: the same as a cold backup's", async () => {
    const fsDeps = coreDeps(config);
    const coldDeps = coreDeps(coldConfig);
    const frozenRun = await runBackup(fsDeps, { units: [writer] });
    const coldRun = await runBackup(coldDeps, { units: [writer] });
    expect([frozenRun.status, coldRun.status]).toEqual(["ok", "ok"]);
    const all = await fsDeps.kopia.snapshotList();
    const of = (r: typeof frozenRun) =>
      r.units[0]?.sources.map((s) => {
        const m = all.find((x) => x.id === s.snapshotId);
        const tags = Object.keys(m?.tags ?? {}).filter((k) => !/run_id|backup_id|timestamp/.test(k));
        return {
          type: s.type,
          label: s.label,
          source: m?.source,
          tags: Object.fromEntries(tags.map((k) => [k, m?.tags?.[k]])),
        };
      });
    expect(of(frozenRun)).toEqual(of(coldRun));
    expect(of(frozenRun)?.find((s) => s.type === "volume")?.source?.path).toBe(
      `/kopi-docka/${writer}/volumes/${volumes.writer}`,
    );
  }, 600_000);

  test("a unit with data off btrfs is backed up cold, with the reason in the result", async () => {
    const record = await runBackup(coreDeps(config), { units: [offBtrfs] });
    expect(record.status).toBe("ok");
    expect(record.units[0]?.warnings?.[0]).toContain(
      `volume ${volumes.off}: not on a filesystem kopi-docka can snapshot`,
    );
    expect(record.units[0]?.coldWindowMs).toBeGreaterThan(0);
  }, 300_000);

  test("a filesystem mounted inside the data: backed up cold, the mount's files in the snapshot", async () => {
    const source = join(mnt, "mounted");
    const dry = await cli(["backup", "--dry-run", "--unit", mounted]);
    expect(dry.stdout).toContain(
      `bind ${source}: cold: ${source}/inner is mounted inside the data: a snapshot would hold only its empty mount point`,
    );
    const record = await runBackup(coreDeps(config), { units: [mounted] });
    expect(record.status).toBe("ok");
    const bind = record.units[0]?.sources.find((x) => x.type === "bind");
    expect(bind).toMatchObject({ status: "ok", files: 2 });
    expect(leftovers()).toEqual([]);
  }, 300_000);

  test("kopia failing (the repository read-only): the unit fails, the snapshot is gone, the container runs", async () => {
    const repo = join(dir.path, "kd", "repository");
    // Run alone (-t), the repository is made here first.
    if (!existsSync(repo)) expect((await runBackup(coreDeps(config), { units: [big] })).status).toBe("ok");
    await run(["mount", "--bind", repo, repo]);
    try {
      await run(["mount", "-o", "remount,bind,ro", repo]);
      await fillBig();
      const record = await runBackup(coreDeps(config), { units: [big] });
      expect(record.status).toBe("failed");
      expect(record.units[0]?.sources.find((s) => s.type === "bind")?.status).toBe("failed");
      // The btrfs snapshot was taken (no "read cold" warning): kopia failed reading it.
      expect(record.units[0]?.warnings).toBeUndefined();
    } finally {
      await run(["umount", repo]);
    }
    expect(leftovers()).toEqual([]);
    expect(await subvolumes()).toBe("");
    expect(readdirSync(snapJournal())).toEqual([]);
    expect(await running(big)).toBe(true);
  }, 600_000);

  test("SIGTERM while kopia reads the snapshot: the snapshot is removed, the container runs", async () => {
    await fillBig();
    const child = Bun.spawn([...SOURCE_CLI, "backup", "--unit", big, "--config", config], {
      env: { ...process.env, ...env, KOPI_DOCKA_CONFIG: "" },
      stdout: "ignore",
      stderr: "pipe",
    });
    expect(await waitForSnapshot()).toBe(true);
    await Bun.sleep(300); // kopia is reading it
    child.kill("SIGTERM");
    const code = await child.exited;
    expect({ code, err: code === 143 ? "" : await new Response(child.stderr).text() }).toEqual({
      code: 143,
      err: "",
    });
    expect(leftovers()).toEqual([]);
    expect(await subvolumes()).toBe("");
    expect(readdirSync(snapJournal())).toEqual([]);
    expect(await running(big)).toBe(true);
  }, 600_000);

  test("SIGKILL while kopia reads the snapshot: `recover` ends its kopia and removes the snapshot", async () => {
    await fillBig();
    const child = Bun.spawn([...SOURCE_CLI, "backup", "--unit", big, "--config", config], {
      env: { ...process.env, ...env, KOPI_DOCKA_CONFIG: "" },
      stdout: "ignore",
      stderr: "pipe",
    });
    const seen = await waitForSnapshot();
    if (!seen) child.kill("SIGTERM");
    expect({ seen, err: seen ? "" : await new Response(child.stderr).text() }).toEqual({
      seen: true,
      err: "",
    });
    await Bun.sleep(300);
    child.kill("SIGKILL");
    await child.exited;
    const left = leftovers();
    expect(left.length).toBe(1);
    expect(readdirSync(snapJournal())).toEqual([`${left[0]}.json`]);
    const r = await cli(["recover", "--json"]);
    expect({ exit: r.exitCode, err: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, err: "" });
    expect(JSON.parse(r.stdout).snapshots).toEqual({ removed: [join(mnt, left[0] ?? "")], failed: [] });
    expect(leftovers()).toEqual([]);
    expect(await subvolumes()).toBe("");
    expect(readdirSync(snapJournal())).toEqual([]);
    expect(await running(big)).toBe(true);
    // The next backup is whole again.
    const record = await runBackup(coreDeps(config), { units: [big] });
    expect(record.status).toBe("ok");
  }, 600_000);

  test("a snapshot renamed away and another subvolume put at its name: the removal deletes ours, never the other", async () => {
    const r = createBunRunner();
    const source = join(mnt, "renamed-src");
    await run(["btrfs", "subvolume", "create", source]);
    writeFileSync(join(source, "f"), "data\n");
    const snapshot = join(mnt, ".kopi-docka-snap-rename-01-1");
    const volumeUuid = parseShow((await run(["btrfs", "subvolume", "show", source])).stdout)?.uuid ?? "";
    const newerThan = await btrfsDriver.newest(r, mnt);
    const spec = { driver: "btrfs" as const, volume: source, snapshot, mount: mnt, volumeUuid, newerThan };
    const identity = await btrfsDriver.create(r, spec);
    // What a container writing beside it could do once it runs again: move ours, put a victim there.
    const moved = join(mnt, "moved-away");
    renameSync(snapshot, moved);
    const victim = join(mnt, "victim");
    await run(["btrfs", "subvolume", "create", victim]);
    writeFileSync(join(victim, "precious"), "keep me\n");
    renameSync(victim, snapshot);
    await btrfsDriver.remove(r, snapshot, identity);
    expect(readFileSync(join(snapshot, "precious"), "utf8")).toBe("keep me\n");
    expect(existsSync(moved)).toBe(false);
    await run(["btrfs", "subvolume", "delete", snapshot]);
    await run(["btrfs", "subvolume", "delete", source]);
  });

  test("kopi-docka restore of an fs-snapshot point: a container sees the stop-time bytes", async () => {
    const b = await cli(["backup", "--unit", writer, "--json"]);
    expect({ exit: b.exitCode, err: b.exitCode ? b.stderr : "" }).toEqual({ exit: 0, err: "" });
    const sums = (mounts: string[], path: string) =>
      run([
        "docker",
        "run",
        "--rm",
        ...mounts.flatMap((m) => ["-v", m]),
        TEST_IMAGE,
        "sh",
        "-c",
        `cd ${path} && sha256sum $(ls | sort)`,
      ]);
    const atStop = (await sums([`${join(mnt, "stop")}:/s:ro`], "/s/w")).stdout;
    expect(atStop.split("\n").filter(Boolean).length).toBeGreaterThanOrEqual(8);
    // Container, volume and the data on btrfs gone.
    await run(["docker", "rm", "-f", writer]);
    await run(["docker", "volume", "rm", volumes.writer]);
    rmSync(join(mnt, "vol"), { recursive: true, force: true });
    const r = await cli(["restore", "--unit", writer, "--latest", "--only", "volumes", "--yes"]);
    expect({ exit: r.exitCode, err: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, err: "" });
    expect((await sums([`${volumes.writer}:/data:ro`], "/data/w")).stdout).toBe(atStop);
  }, 600_000);

  /** The nonce of the writer's current start, from a file it rewrites all the time (never read half-written). */
  async function liveNonce(): Promise<string> {
    for (;;) {
      const text = readFileSync(join(mnt, "vol", "w", "same0"), "utf8");
      if (text.endsWith("\n")) return nonceOf(text);
      await Bun.sleep(1);
    }
  }

  /** Polls until a snapshot of ours exists under the mount (true), or the time is up (false). */
  async function waitForSnapshot(ms = 120_000): Promise<boolean> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (existsSync(mnt) && leftovers().length > 0) return true;
      await Bun.sleep(5);
    }
    return false;
  }
});

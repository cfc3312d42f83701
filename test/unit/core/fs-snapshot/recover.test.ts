import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recoverIfNeeded } from "../../../../src/core/containers/recover.ts";
import {
  fsSnapshotJournalDir,
  recordSnapshot,
  snapshotEntries,
} from "../../../../src/core/fs-snapshot/journal.ts";
import { removeStaleSnapshots } from "../../../../src/core/fs-snapshot/recover.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { listLine, SNAP_UUID, VOLUME_UUID } from "./fixtures.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function setup() {
  const root = mkdtempSync(join(tmpdir(), "kdt-fsrec-"));
  dirs.push(root);
  const journalDir = join(root, "journal");
  const snapDir = fsSnapshotJournalDir(journalDir);
  const snapshot = join(root, ".kopi-docka-snap-run1-01-1");
  return { root, journalDir, snapDir, snapshot };
}

test("a dead run's snapshot is deleted by btrfs, an entry whose snapshot is gone just cleared", async () => {
  const { root, journalDir, snapDir, snapshot } = setup();
  mkdirSync(snapshot);
  recordSnapshot(snapDir, { runId: "run1", driver: "btrfs", snapshot, volume: root });
  const gone = join(root, ".kopi-docka-snap-run2-01-1");
  recordSnapshot(snapDir, { runId: "run2", driver: "btrfs", snapshot: gone, volume: root });
  const runner = new FakeRunner([{ argv: ["btrfs", "subvolume", "delete", snapshot] }]);
  const r = await removeStaleSnapshots({
    runner,
    journalDir,
    log: silentLogger(),
    isAlive: () => false,
    skipOrphans: true,
  });
  expect(r).toEqual({ removed: [snapshot], failed: [] });
  expect(runner.remaining).toBe(0);
  expect(readdirSync(snapDir)).toEqual([]);
});

test("a snapshot known by its id is deleted by that, wherever its name went; an unmounted disk keeps the entry", async () => {
  const { root, journalDir, snapDir, snapshot } = setup();
  const identity = { id: 300, uuid: SNAP_UUID, mount: "/mnt/pool", generation: 9 };
  // The container renamed it (or put a link in its place): the path is not looked at.
  recordSnapshot(snapDir, { runId: "run1", driver: "btrfs", snapshot, volume: root, identity });
  const list = ["btrfs", "subvolume", "list", "-q", "-u", "/mnt/pool"];
  const unmounted = new FakeRunner([{ argv: list, exitCode: 1, stderr: "ERROR: not a btrfs filesystem" }]);
  const o = { journalDir, log: silentLogger(), isAlive: () => false, skipOrphans: true };
  expect((await removeStaleSnapshots({ ...o, runner: unmounted })).failed).toHaveLength(1);
  expect(readdirSync(snapDir)).toHaveLength(1);
  const runner = new FakeRunner([
    {
      argv: list,
      stdout: listLine({ id: 300, uuid: identity.uuid, parent: VOLUME_UUID, path: "pool/elsewhere" }),
    },
    { argv: ["btrfs", "subvolume", "delete", "--subvolid", "300", "/mnt/pool"] },
  ]);
  expect(await removeStaleSnapshots({ ...o, runner })).toEqual({ removed: [snapshot], failed: [] });
  expect(runner.remaining).toBe(0);
  expect(readdirSync(snapDir)).toEqual([]);
});

test("a snapshot the run never identified (killed in the create, or given up on): deleted by id only when it is the one made after the mark", async () => {
  const { root, journalDir, snapDir, snapshot } = setup();
  mkdirSync(snapshot);
  const made = { volumeUuid: VOLUME_UUID, newerThan: 280, mount: "/mnt/pool" };
  recordSnapshot(snapDir, { runId: "run1", driver: "btrfs", snapshot, volume: root, made });
  const o = { journalDir, log: silentLogger(), isAlive: () => false, skipOrphans: true };
  const list = ["btrfs", "subvolume", "list", "-q", "-u", "/mnt/pool"];
  const older = listLine({ id: 270, uuid: VOLUME_UUID.replace("b", "c"), parent: VOLUME_UUID });
  const ours = listLine({ id: 300, uuid: SNAP_UUID, parent: VOLUME_UUID, path: "pool/renamed" });
  // Two snapshots of the volume newer than the mark: which is the run's cannot be told; the entry kept.
  const two = new FakeRunner([
    {
      argv: list,
      stdout: `${older}\n${ours}\n${listLine({ id: 301, uuid: VOLUME_UUID.replace("b", "d"), parent: VOLUME_UUID })}`,
    },
  ]);
  expect((await removeStaleSnapshots({ ...o, runner: two })).failed).toEqual([
    { snapshot, reason: expect.stringContaining("cannot be told") },
  ]);
  expect(readdirSync(snapDir)).toHaveLength(1);
  // The one made after the mark is deleted by its id (the older one never), wherever its name went.
  const runner = new FakeRunner([
    { argv: list, stdout: `${older}\n${ours}` },
    { argv: list, stdout: `${older}\n${ours}` },
    { argv: ["btrfs", "subvolume", "delete", "--subvolid", "300", "/mnt/pool"] },
  ]);
  expect(await removeStaleSnapshots({ ...o, runner })).toEqual({ removed: [snapshot], failed: [] });
  expect(runner.remaining).toBe(0);
  expect(readdirSync(snapDir)).toEqual([]);
});

test("an entry of a live run is left alone", async () => {
  const { root, journalDir, snapDir, snapshot } = setup();
  recordSnapshot(snapDir, { runId: "run1", driver: "btrfs", snapshot, volume: root });
  const r = await removeStaleSnapshots({ runner: new FakeRunner(), journalDir, log: silentLogger() });
  expect(r).toEqual({ removed: [], failed: [] });
  expect(snapshotEntries(snapDir, () => {}).map((e) => e.snapshot)).toEqual([snapshot]);
});

test("a failed delete keeps the entry for the next try; a foreign path in an entry is never touched", async () => {
  const { root, journalDir, snapDir, snapshot } = setup();
  mkdirSync(snapshot);
  recordSnapshot(snapDir, { runId: "run1", driver: "btrfs", snapshot, volume: root });
  writeFileSync(
    join(snapDir, "forged.json"),
    JSON.stringify({
      runId: "x",
      pid: 1,
      pidStartTime: null,
      driver: "btrfs",
      snapshot: "/etc",
      volume: "/",
      createdAt: "t",
    }),
  );
  const bad: string[] = [];
  const log = silentLogger();
  log.warn = ((m: unknown) => bad.push(String(m))) as unknown as typeof log.warn;
  const runner = new FakeRunner([
    { argv: ["btrfs", "subvolume", "delete", snapshot], exitCode: 1, stderr: "busy" },
  ]);
  const r = await removeStaleSnapshots({ runner, journalDir, log, isAlive: () => false, skipOrphans: true });
  expect(r.removed).toEqual([]);
  expect(r.failed).toEqual([{ snapshot, reason: expect.stringContaining("busy") }]);
  expect(existsSync(join(snapDir, ".kopi-docka-snap-run1-01-1.json"))).toBe(true);
  expect(bad.join("\n")).toContain("forged.json left alone");
  expect(runner.calls.map((c) => c.argv.at(-1))).toEqual([snapshot]);
});

test("the journal refuses to record a path that is not ours", () => {
  const { root, snapDir } = setup();
  expect(() =>
    recordSnapshot(snapDir, { runId: "r", driver: "btrfs", snapshot: join(root, "data"), volume: root }),
  ).toThrow();
});

test("the next backup's self-heal (recoverIfNeeded) removes a dead run's snapshot too", async () => {
  const { root, journalDir, snapDir, snapshot } = setup();
  mkdirSync(snapshot);
  mkdirSync(snapDir, { recursive: true });
  // A run that is gone: a pid no process has (above the kernel's pid_max default).
  const entry = {
    runId: "dead",
    pid: 4_194_304 + 7,
    pidStartTime: 1,
    driver: "btrfs",
    snapshot,
    volume: root,
  };
  writeFileSync(
    join(snapDir, ".kopi-docka-snap-run1-01-1.json"),
    JSON.stringify({ ...entry, createdAt: "t" }),
  );
  const runner = new FakeRunner([{ argv: ["btrfs", "subvolume", "delete", snapshot] }]);
  const docker = new FakeDocker();
  expect(
    await recoverIfNeeded({ paths: { journalDir }, docker, log: silentLogger(), runner }),
  ).toBeUndefined();
  expect(runner.remaining).toBe(0);
  expect(readdirSync(snapDir)).toEqual([]);
});

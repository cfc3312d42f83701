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
  const identity = { id: 300, uuid: "08743b55-973f-7545-a23e-d04eab01bc5c", mount: "/mnt/pool" };
  // The container renamed it (or put a link in its place): the path is not looked at.
  recordSnapshot(snapDir, { runId: "run1", driver: "btrfs", snapshot, volume: root, identity });
  const show = ["btrfs", "subvolume", "show", "-r", "300", "/mnt/pool"];
  const unmounted = new FakeRunner([{ argv: show, exitCode: 1, stderr: "ERROR: not a btrfs filesystem" }]);
  const o = { journalDir, log: silentLogger(), isAlive: () => false, skipOrphans: true };
  expect((await removeStaleSnapshots({ ...o, runner: unmounted })).failed).toHaveLength(1);
  expect(readdirSync(snapDir)).toHaveLength(1);
  const runner = new FakeRunner([
    { argv: show, stdout: `x\n\tUUID: \t${identity.uuid}\n\tSubvolume ID: \t300\n\tFlags: \treadonly\n` },
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

import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { btrfs } from "../../../../src/core/fs-snapshot/btrfs.ts";
import { newestSubvolume, parseList } from "../../../../src/core/fs-snapshot/btrfs-subvolume.ts";
import { hostFs } from "../../../../src/core/fs-snapshot/locate.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { listLine, SNAP_UUID, VOLUME_UUID } from "./fixtures.ts";

const snap = "/srv/.kopi-docka-snap-r-01-1";
const spec = {
  driver: "btrfs" as const,
  volume: "/srv",
  snapshot: snap,
  mount: "/srv",
  volumeUuid: VOLUME_UUID,
  device: "/dev/loop0",
  newerThan: 280,
};
const UUID = SNAP_UUID;
const OTHER = "11111111-2222-3333-4444-555555555555";
/** `list -q -u` lines: the volume itself, someone's older snapshot of it, and `more`. */
const listing = (...more: string[]) =>
  [
    listLine({ id: 256, uuid: VOLUME_UUID, path: "srv" }),
    listLine({ id: 270, uuid: OTHER, parent: VOLUME_UUID, path: "srv/.snapshots/1/snapshot" }),
    ...more,
    "",
  ].join("\n");
const ours = (o: { id?: number; generation?: number; path?: string } = {}) =>
  listLine({
    id: o.id ?? 300,
    uuid: UUID,
    parent: VOLUME_UUID,
    generation: o.generation ?? 12,
    path: o.path,
  });
const snapshotArgv = ["btrfs", "subvolume", "snapshot", "-r", "/srv", snap];
const listRo = ["btrfs", "subvolume", "list", "-r", "-q", "-u", "/srv"];
const listAll = ["btrfs", "subvolume", "list", "-q", "-u", "/srv"];

test("create: one read-only snapshot of the subvolume, found by btrfs's list (never its path) as the one newer than the mark", async () => {
  // A container renamed it at once and put a link at its name: the list knows it all the same.
  const runner = new FakeRunner([
    { argv: snapshotArgv },
    { argv: listRo, stdout: listing(ours({ path: "srv/away" })) },
  ]);
  expect(await btrfs.create(runner, spec)).toEqual({ id: 300, uuid: UUID, mount: "/srv", generation: 12 });
  expect(runner.remaining).toBe(0);
});

test("create: no snapshot of the volume newer than the mark, or two (someone snapshotted it meanwhile): an error", async () => {
  const theirs = listLine({ id: 301, uuid: OTHER, parent: VOLUME_UUID });
  for (const [stdout, why] of [
    [listing(), "no read-only snapshot of /srv newer than subvolume 280"],
    [listing(ours(), theirs), "2 snapshots of"],
    // A name with a line break adding a fake line only adds a candidate.
    [listing(ours({ path: `x\n${theirs}` })), "2 snapshots of"],
  ] as const) {
    const runner = new FakeRunner([{ argv: snapshotArgv }, { argv: listRo, stdout }]);
    await expect(btrfs.create(runner, spec)).rejects.toMatchObject({
      name: "FsSnapshotError",
      message: expect.stringContaining(why),
    });
  }
});

test("newest: the highest subvolume id, from the first line alone; none but the top level: 255", async () => {
  const list = (stdout: string) =>
    new FakeRunner([{ argv: ["btrfs", "subvolume", "list", "--sort=-rootid", "/srv"], stdout }]);
  const forged =
    "ID 290 gen 9 top level 5 path a\nID 257 gen 9 top level 5 path b\nID 99999 gen 1 top level 5 path x\n";
  expect(await newestSubvolume(list(forged), "/srv")).toBe(290);
  expect(await newestSubvolume(list(""), "/srv")).toBe(255);
});

test("parseList: id, generation, UUIDs, path; no parent for a plain subvolume", () => {
  expect(parseList(listing())).toEqual([
    { id: 256, generation: 9, parentUuid: undefined, uuid: VOLUME_UUID, path: "srv" },
    { id: 270, generation: 9, parentUuid: VOLUME_UUID, uuid: OTHER, path: "srv/.snapshots/1/snapshot" },
  ]);
});

test("isRoot: an open directory is the snapshot when it is a subvolume's root (inode 256) and btrfs names its id", async () => {
  const identity = { id: 300, uuid: UUID, mount: "/srv", generation: 12 };
  const dir = "/proc/1/fd/7";
  const rootid = ["btrfs", "inspect-internal", "rootid", dir];
  const fs = (ino: number) => ({ ...hostFs, inode: (p: string) => (p === `${dir}/.` ? ino : 0) });
  const answer = (stdout: string, ino = 256) =>
    btrfs.isRoot(new FakeRunner([{ argv: rootid, stdout }]), dir, identity, fs(ino));
  expect(await answer("300\n")).toBeUndefined();
  expect(await answer("301\n")).toBe("subvolume 301, not 300");
  // A directory inside the snapshot (its subvolume is ours): not its root, not read as the data.
  expect(await btrfs.isRoot(new FakeRunner(), dir, identity, fs(260))).toBe(
    "not a subvolume's root directory",
  );
});

test("whereIs: the snapshot's path as btrfs lists it now, under the mount's root", async () => {
  const identity = { id: 300, uuid: UUID, mount: "/srv", generation: 12 };
  const fs = (root: string | undefined) => ({ ...hostFs, mountRoot: () => root });
  const where = (root: string | undefined, path: string) =>
    btrfs.whereIs(new FakeRunner([{ argv: listAll, stdout: listing(ours({ path })) }]), identity, fs(root));
  // The filesystem mounted whole at /srv; mounted with subvol=data; a path outside what the mount shows.
  expect(await where("/", "vol/away")).toBe("/srv/vol/away");
  expect(await where("/data", "data/vol/away")).toBe("/srv/vol/away");
  expect(await where("/data", "other/away")).toBeUndefined();
  expect(await where(undefined, "vol/away")).toBeUndefined();
});

test("remove by identity: btrfs finds the subvolume by its id on the mount, its UUID checked first", async () => {
  const identity = { id: 300, uuid: UUID, mount: "/srv", generation: 12 };
  const ok = new FakeRunner([
    { argv: listAll, stdout: listing(ours()) },
    { argv: ["btrfs", "subvolume", "delete", "--subvolid", "300", "/srv"] },
  ]);
  await btrfs.remove(ok, snap, identity);
  expect(ok.remaining).toBe(0);
  // Gone already: nothing to delete.
  const gone = new FakeRunner([{ argv: listAll, stdout: listing() }]);
  await btrfs.remove(gone, snap, identity);
  expect(gone.remaining).toBe(0);
  // Another subvolume under that id, listed twice (a forged line), or the disk not mounted: refused.
  for (const answer of [
    { stdout: listing(listLine({ id: 300, uuid: OTHER })) },
    { stdout: listing(ours(), ours()) },
    { exitCode: 1, stderr: "ERROR: not a btrfs filesystem: /srv" },
  ]) {
    const runner = new FakeRunner([{ argv: listAll, ...answer }]);
    await expect(btrfs.remove(runner, snap, identity)).rejects.toMatchObject({
      message: expect.stringContaining("refusing to remove"),
    });
    expect(runner.calls.some((c) => c.argv.includes("delete"))).toBe(false);
  }
});

test("remove of one never identified (killed, or given up on): the one snapshot made after the mark, by its id", async () => {
  const made = { volumeUuid: VOLUME_UUID, newerThan: 280, mount: "/srv" };
  const ok = new FakeRunner([
    { argv: listAll, stdout: listing(ours({ path: "srv/renamed" })) },
    { argv: listAll, stdout: listing(ours({ path: "srv/renamed" })) },
    { argv: ["btrfs", "subvolume", "delete", "--subvolid", "300", "/srv"] },
  ]);
  await btrfs.remove(ok, snap, undefined, made);
  expect(ok.remaining).toBe(0);
  // None: nothing was made; the older snapshot of the volume is never taken for it.
  const none = new FakeRunner([{ argv: listAll, stdout: listing() }]);
  await btrfs.remove(none, snap, undefined, made);
  expect(none.calls.some((c) => c.argv.includes("delete"))).toBe(false);
  // Two: which is ours cannot be told; nothing deleted.
  const two = new FakeRunner([
    { argv: listAll, stdout: listing(ours(), listLine({ id: 301, uuid: OTHER, parent: VOLUME_UUID })) },
  ]);
  await expect(btrfs.remove(two, snap, undefined, made)).rejects.toMatchObject({
    message: expect.stringContaining("refusing to remove"),
  });
  expect(two.calls.some((c) => c.argv.includes("delete"))).toBe(false);
});

test("changed: the snapshot by its id, still read-only and at the generation it was made with", async () => {
  const identity = { id: 300, uuid: UUID, mount: "/srv", generation: 12 };
  const answer = (stdout: string) => btrfs.changed(new FakeRunner([{ argv: listRo, stdout }]), identity);
  expect(await answer(listing(ours()))).toBeUndefined();
  expect(await answer(listing())).toBe("subvolume 300 is gone or no longer read-only");
  expect(await answer(listing(ours({ generation: 14 })))).toBe(
    "subvolume 300 was changed (generation 12 → 14)",
  );
});

test("create failing is an FsSnapshotError with btrfs's words", async () => {
  const runner = new FakeRunner([{ argv: snapshotArgv, exitCode: 1, stderr: "ERROR: No space left" }]);
  await expect(btrfs.create(runner, spec)).rejects.toMatchObject({
    name: "FsSnapshotError",
    code: "backup_failed",
    message: expect.stringContaining("No space left"),
  });
});

test("remove deletes only a snapshot of ours", async () => {
  const runner = new FakeRunner([{ argv: ["btrfs", "subvolume", "delete", snap] }]);
  await btrfs.remove(runner, snap);
  expect(runner.remaining).toBe(0);
  await expect(btrfs.remove(new FakeRunner(), "/srv/data")).rejects.toMatchObject({
    message: "refusing to remove /srv/data: not ours",
  });
});

test("remove never follows a symlink at or above our name (btrfs-progs would delete its target)", async () => {
  const root = mkdtempSync(join(tmpdir(), "kdt-btrfs-"));
  try {
    mkdirSync(join(root, "real"));
    mkdirSync(join(root, "victim"));
    const link = join(root, ".kopi-docka-snap-r-01-1");
    symlinkSync(join(root, "victim"), link);
    mkdirSync(join(root, "real", ".kopi-docka-snap-r-01-2"));
    symlinkSync(join(root, "real"), join(root, "via"));
    const runner = new FakeRunner();
    await expect(btrfs.remove(runner, link)).rejects.toMatchObject({
      message: expect.stringContaining("symlink"),
    });
    await expect(btrfs.remove(runner, join(root, "via", ".kopi-docka-snap-r-01-2"))).rejects.toMatchObject({
      message: expect.stringContaining("symlink"),
    });
    expect(runner.calls).toEqual([]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

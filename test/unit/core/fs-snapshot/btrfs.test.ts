import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { btrfs } from "../../../../src/core/fs-snapshot/btrfs.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";

const snap = "/srv/.kopi-docka-snap-r-01-1";

const spec = { driver: "btrfs" as const, volume: "/srv", snapshot: snap, mount: "/srv" };
const UUID = "08743b55-973f-7545-a23e-d04eab01bc5c";
/** `btrfs subvolume show` of btrfs-progs 6.2 (abridged). */
const show = (id: number, uuid = UUID, flags = "readonly") =>
  `vol/.snap\n\tName: \t\t\t.snap\n\tUUID: \t\t\t${uuid}\n\tParent UUID: \t\tb48ca506-47dc-e546-a961-cf7843f3f75f\n\tSubvolume ID: \t\t${id}\n\tFlags: \t\t\t${flags}\n`;

test("create: one read-only snapshot of the subvolume, argv only, and which subvolume it is", async () => {
  const runner = new FakeRunner([
    { argv: ["btrfs", "subvolume", "snapshot", "-r", "/srv", snap] },
    { argv: ["btrfs", "subvolume", "show", snap], stdout: show(257) },
  ]);
  expect(await btrfs.create(runner, spec)).toEqual({ id: 257, uuid: UUID, mount: "/srv" });
  expect(runner.remaining).toBe(0);
  // Not a read-only subvolume at our name after the snapshot: an error (the caller removes what is there).
  const writable = new FakeRunner([
    { argv: ["btrfs", "subvolume", "snapshot", "-r", "/srv", snap] },
    { argv: ["btrfs", "subvolume", "show", snap], stdout: show(257, UUID, "-") },
  ]);
  await expect(btrfs.create(writable, spec)).rejects.toMatchObject({ name: "FsSnapshotError" });
});

test("remove by identity: btrfs finds the subvolume by its id on the mount, its UUID checked first", async () => {
  const identity = { id: 257, uuid: UUID, mount: "/srv" };
  const ok = new FakeRunner([
    { argv: ["btrfs", "subvolume", "show", "-r", "257", "/srv"], stdout: show(257) },
    { argv: ["btrfs", "subvolume", "delete", "--subvolid", "257", "/srv"] },
  ]);
  await btrfs.remove(ok, snap, identity);
  expect(ok.remaining).toBe(0);
  // Gone already: nothing to delete.
  const gone = new FakeRunner([
    {
      argv: ["btrfs", "subvolume", "show", "-r", "257", "/srv"],
      exitCode: 1,
      stderr: "ERROR: Subvolume not found: No such file or directory",
    },
  ]);
  await btrfs.remove(gone, snap, identity);
  expect(gone.remaining).toBe(0);
  // Another subvolume under that id, or the disk not mounted: refused, nothing deleted.
  for (const answer of [
    { stdout: show(257, "11111111-2222-3333-4444-555555555555") },
    { exitCode: 1, stderr: "ERROR: not a btrfs filesystem: /srv" },
  ]) {
    const runner = new FakeRunner([{ argv: ["btrfs", "subvolume", "show", "-r", "257", "/srv"], ...answer }]);
    await expect(btrfs.remove(runner, snap, identity)).rejects.toMatchObject({
      message: expect.stringContaining("refusing to remove"),
    });
    expect(runner.calls.some((c) => c.argv.includes("delete"))).toBe(false);
  }
});

test("create failing is an FsSnapshotError with btrfs's words", async () => {
  const runner = new FakeRunner([
    {
      argv: ["btrfs", "subvolume", "snapshot", "-r", "/srv", snap],
      exitCode: 1,
      stderr: "ERROR: No space left",
    },
  ]);
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

import { expect, test } from "bun:test";
import { btrfs } from "../../../../src/core/fs-snapshot/btrfs.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";

const snap = "/srv/.kopi-docka-snap-r-01-1";

test("create: one read-only snapshot of the subvolume, argv only", async () => {
  const runner = new FakeRunner([{ argv: ["btrfs", "subvolume", "snapshot", "-r", "/srv", snap] }]);
  await btrfs.create(runner, { driver: "btrfs", volume: "/srv", snapshot: snap });
  expect(runner.remaining).toBe(0);
});

test("create failing is an FsSnapshotError with btrfs's words", async () => {
  const runner = new FakeRunner([
    {
      argv: ["btrfs", "subvolume", "snapshot", "-r", "/srv", snap],
      exitCode: 1,
      stderr: "ERROR: No space left",
    },
  ]);
  await expect(
    btrfs.create(runner, { driver: "btrfs", volume: "/srv", snapshot: snap }),
  ).rejects.toMatchObject({
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

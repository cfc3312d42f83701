import { afterEach, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FsSnapshotDriver } from "../../../../src/core/fs-snapshot/driver.ts";
import { hostFs } from "../../../../src/core/fs-snapshot/locate.ts";
import { linkOnTheWay, openView } from "../../../../src/core/fs-snapshot/view.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

/** A snapshot's tree as a container may have left it: the data, a link planted on its way, a file. */
function tree(): string {
  const root = mkdtempSync(join(tmpdir(), "kdt-view-"));
  roots.push(root);
  mkdirSync(join(root, "volumes", "v", "_data"), { recursive: true });
  writeFileSync(join(root, "volumes", "v", "_data", "f"), "x");
  mkdirSync(join(root, "real"));
  symlinkSync("/etc", join(root, "planted"));
  symlinkSync(join(root, "real"), join(root, "volumes", "link"));
  writeFileSync(join(root, "app.conf"), "x");
  return root;
}

test("a plain path to a directory, or to a file at its end, is read", () => {
  const root = tree();
  expect(linkOnTheWay(root, "volumes/v/_data")).toBeUndefined();
  expect(linkOnTheWay(root, "")).toBeUndefined();
  expect(linkOnTheWay(root, "app.conf")).toBeUndefined();
});

test("a symlink anywhere on the way (planted before the snapshot) is refused, never followed", () => {
  const root = tree();
  expect(linkOnTheWay(root, "planted")).toBe(
    "planted is a symlink in the snapshot (planted in the data before it was taken)",
  );
  expect(linkOnTheWay(root, "volumes/link/x")).toContain("volumes/link is a symlink");
  expect(linkOnTheWay(root, "app.conf/x")).toBe("app.conf is not a directory in the snapshot");
  expect(linkOnTheWay(root, "volumes/none")).toBe("volumes/none is not in the snapshot");
  expect(linkOnTheWay(root, "volumes/../planted")).toBe("volumes/../planted is not a plain relative path");
  expect(linkOnTheWay(join(root, "gone"), "x")).toBe("the snapshot is not open");
});

/** A driver that knows one directory as the snapshot (by its marker file) and where it is now. */
function driverFor(snapshotDir: () => string): FsSnapshotDriver {
  return {
    isRoot: async (_r, dir) => {
      try {
        return Bun.file(join(dir, "SNAPSHOT")).size >= 0 &&
          (await Bun.file(join(dir, "SNAPSHOT")).text()) === "ours"
          ? undefined
          : "not ours";
      } catch {
        return "not ours";
      }
    },
    whereIs: async () => snapshotDir(),
  } as Partial<FsSnapshotDriver> as FsSnapshotDriver;
}
const identity = { id: 300, uuid: "u", mount: "/", generation: 9 };

test("openView: the snapshot moved away and a link put at its name: opened where the filesystem says it is, read through its descriptor", async () => {
  const root = tree();
  const snap = join(root, ".kopi-docka-snap-r-01-1");
  mkdirSync(join(snap, "data"), { recursive: true });
  writeFileSync(join(snap, "SNAPSHOT"), "ours");
  writeFileSync(join(snap, "data", "f"), "bytes");
  renameSync(snap, join(root, "away"));
  symlinkSync(join(root, "real"), snap);
  const view = await openView(
    new FakeRunner(),
    driverFor(() => join(root, "away")),
    snap,
    identity,
    hostFs,
  );
  const path = view.path("data");
  expect(path).toMatch(new RegExp(`^/proc/${process.pid}/fd/\\d+/data$`));
  // Renamed again while read: the descriptor still leads to it.
  renameSync(join(root, "away"), join(root, "away2"));
  expect(await Bun.file(join(path, "f")).text()).toBe("bytes");
  expect(view.moved()).toBeUndefined();
  view.close();
});

test("openView: neither at its name nor where the filesystem says: an error, nothing read", async () => {
  const root = tree();
  const snap = join(root, ".kopi-docka-snap-r-01-1");
  symlinkSync(join(root, "real"), snap);
  await expect(
    openView(
      new FakeRunner(),
      driverFor(() => join(root, "real")),
      snap,
      identity,
      hostFs,
    ),
  ).rejects.toMatchObject({ message: expect.stringContaining("renamed or replaced meanwhile") });
});

test("openView: the root itself read (the data is a whole subvolume): its link must still lead to it after the read", async () => {
  const root = tree();
  const snap = join(root, ".kopi-docka-snap-r-01-1");
  mkdirSync(snap);
  writeFileSync(join(snap, "SNAPSHOT"), "ours");
  const view = await openView(
    new FakeRunner(),
    driverFor(() => snap),
    snap,
    identity,
    hostFs,
  );
  expect(view.path("")).toMatch(new RegExp(`^/proc/${process.pid}/fd/\\d+$`));
  expect(view.moved()).toBeUndefined();
  // Moved away and a link put at the name during the read: what kopia followed may not have been it.
  renameSync(snap, join(root, "away"));
  symlinkSync(join(root, "real"), snap);
  expect(view.moved()).toBe(`${snap} was not the snapshot all along`);
  view.close();
});

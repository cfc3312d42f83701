import { describe, expect, test } from "bun:test";
import { BTRFS_MAGIC } from "../../../../src/core/fs-snapshot/btrfs.ts";
import type { FsFacts } from "../../../../src/core/fs-snapshot/driver.ts";
import { isOurSnapshot, snapshotName } from "../../../../src/core/fs-snapshot/driver.ts";
import { locateSources } from "../../../../src/core/fs-snapshot/locate.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { showText, VOLUME_UUID } from "./fixtures.ts";

const EXT4 = 0xef53;

/** A described tree: which paths are on btrfs, which are subvolume roots (inode 256), symlinks. */
function facts(o: {
  btrfs: string[];
  subvolumes: string[];
  links?: Record<string, string>;
  /** Mount points of further filesystems (one superblock each); the rest is one filesystem. */
  mounts?: string[];
  /** Mount points that are bind mounts of a directory of the same filesystem. */
  binds?: string[];
}): FsFacts {
  const under = (p: string, roots: string[]) =>
    roots.some((r) => p === r || p.startsWith(r === "/" ? "/" : `${r}/`));
  return {
    fsType: (p) => (under(p, o.btrfs) ? BTRFS_MAGIC : EXT4),
    inode: (p) => (o.subvolumes.includes(p) ? 256 : 1000 + p.length),
    realpath: (p) => o.links?.[p] ?? p,
    filesystem: (p) => [...(o.mounts ?? [])].reverse().find((m) => under(p, [m])) ?? "root",
    mountPoints: () => ["/", ...(o.mounts ?? []), ...(o.binds ?? [])],
    mountRoot: () => "/",
  };
}

const show = (volume: string, self: string) => ({
  argv: ["btrfs", "subvolume", "show", volume],
  stdout: showText({ path: self, id: 256, uuid: VOLUME_UUID, readonly: false }),
});
const list = (volume: string, paths: string[], top = 5) => ({
  argv: ["btrfs", "subvolume", "list", "-o", volume],
  stdout: paths.map((p, i) => `ID ${260 + i} gen 8 top level ${top} path ${p}`).join("\n"),
});

describe("locateSources", () => {
  test("data in a plain directory of a subvolume: snapshot the subvolume, read the relative path", async () => {
    const fs = facts({ btrfs: ["/srv"], subvolumes: ["/srv"] });
    const runner = new FakeRunner([show("/srv", "/"), list("/srv", ["other/sub"])]);
    expect(await locateSources(runner, ["/srv/docker/db"], fs)).toEqual({
      "/srv/docker/db": {
        kind: "snapshot",
        driver: "btrfs",
        volume: "/srv",
        relative: "docker/db",
        into: "/srv",
        mount: "/",
        uuid: VOLUME_UUID,
      },
    });
    expect(runner.remaining).toBe(0);
  });

  test("a subvolume whose UUID btrfs does not tell (an answer with a field twice): cold", async () => {
    const fs = facts({ btrfs: ["/srv"], subvolumes: ["/srv"] });
    const twice = show("/srv", "/");
    twice.stdout = twice.stdout.replace("\tUUID:", `\tUUID: \t${VOLUME_UUID}\n\tUUID:`);
    const runner = new FakeRunner([twice, list("/srv", [])]);
    expect((await locateSources(runner, ["/srv/db"], fs))["/srv/db"]).toEqual({
      kind: "cold",
      reason: "btrfs does not tell subvolume /srv's UUID",
    });
  });

  test("not on btrfs: cold, naming the filesystem type; no btrfs call", async () => {
    const runner = new FakeRunner();
    const r = await locateSources(
      runner,
      ["/var/lib/docker/volumes/v/_data"],
      facts({ btrfs: [], subvolumes: [] }),
    );
    expect(r["/var/lib/docker/volumes/v/_data"]).toEqual({
      kind: "cold",
      reason: "not on a filesystem kopi-docka can snapshot (statfs type 0xef53; btrfs only)",
    });
    expect(runner.calls).toEqual([]);
  });

  test("a subvolume nested inside the data would be empty in the snapshot: cold", async () => {
    const fs = facts({ btrfs: ["/mnt"], subvolumes: ["/mnt/pool"] });
    const runner = new FakeRunner([show("/mnt/pool", "pool"), list("/mnt/pool", ["pool/data/inner"], 256)]);
    const r = await locateSources(runner, ["/mnt/pool/data"], fs);
    expect(r["/mnt/pool/data"]).toEqual({
      kind: "cold",
      reason: "subvolume /mnt/pool/data/inner inside the data would be empty in a snapshot",
    });
  });

  test("a nested subvolume beside the data does not matter; symlinks are resolved first", async () => {
    const fs = facts({ btrfs: ["/mnt"], subvolumes: ["/mnt/pool"], links: { "/data": "/mnt/pool/a" } });
    const runner = new FakeRunner([
      show("/mnt/pool", "pool"),
      list("/mnt/pool", ["pool/ab", "pool/b/c"], 256),
    ]);
    expect((await locateSources(runner, ["/data"], fs))["/data"]).toEqual({
      kind: "snapshot",
      driver: "btrfs",
      volume: "/mnt/pool",
      relative: "a",
      into: "/mnt/pool",
      mount: "/",
      uuid: VOLUME_UUID,
    });
  });

  test("the data is a whole subvolume: the snapshot goes beside it, or cold when the parent is not btrfs", async () => {
    const inside = facts({ btrfs: ["/mnt"], subvolumes: ["/mnt", "/mnt/vol"] });
    const r1 = await locateSources(
      new FakeRunner([show("/mnt/vol", "vol"), list("/mnt/vol", [])]),
      ["/mnt/vol"],
      inside,
    );
    expect(r1["/mnt/vol"]).toMatchObject({
      kind: "snapshot",
      volume: "/mnt/vol",
      relative: "",
      into: "/mnt",
      mount: "/",
    });
    const alone = facts({ btrfs: ["/mnt/vol"], subvolumes: ["/mnt/vol"] });
    const r2 = await locateSources(new FakeRunner(), ["/mnt/vol"], alone);
    expect(r2["/mnt/vol"]).toEqual({
      kind: "cold",
      reason: "the data is the whole subvolume /mnt/vol, and its parent directory is not on btrfs",
    });
  });

  test("the data is a whole btrfs mounted on another btrfs: cold, since a snapshot cannot cross filesystems", async () => {
    const fs = facts({ btrfs: ["/mnt"], subvolumes: ["/mnt", "/mnt/vol"], mounts: ["/mnt", "/mnt/vol"] });
    const runner = new FakeRunner();
    const r = await locateSources(runner, ["/mnt/vol"], fs);
    expect(r["/mnt/vol"]).toEqual({
      kind: "cold",
      reason:
        "the data is the whole subvolume /mnt/vol, and its parent directory /mnt is on another filesystem",
    });
    expect(runner.calls).toEqual([]);
  });

  test("data reached through a bind mount of a plain directory: cold, the subvolume above is not where it is", async () => {
    const fs = facts({ btrfs: ["/"], subvolumes: ["/"], binds: ["/srv/app"] });
    const r = await locateSources(new FakeRunner(), ["/srv/app"], fs);
    expect(r["/srv/app"]).toEqual({
      kind: "cold",
      reason: "/srv/app is on the mount /srv/app, not on its subvolume /'s: a snapshot would not hold it",
    });
  });

  test("a filesystem mounted inside the data: cold, a snapshot would hold its empty mount point", async () => {
    const fs = facts({ btrfs: ["/srv"], subvolumes: ["/srv"], mounts: ["/srv/docker/db/nfs"] });
    const r = await locateSources(new FakeRunner(), ["/srv/docker/db"], fs);
    expect(r["/srv/docker/db"]).toEqual({
      kind: "cold",
      reason:
        "/srv/docker/db/nfs is mounted inside the data: a snapshot would hold only its empty mount point",
    });
  });

  test("btrfs cannot describe the subvolume (tool missing, no permission): cold with its words", async () => {
    const fs = facts({ btrfs: ["/srv"], subvolumes: ["/srv"] });
    const runner = new FakeRunner([
      { ...show("/srv", "/"), exitCode: 1, stderr: "ERROR: permission denied" },
    ]);
    const r = await locateSources(runner, ["/srv/x"], fs);
    expect(r["/srv/x"]?.kind).toBe("cold");
    expect(r["/srv/x"]).toMatchObject({ reason: expect.stringContaining("permission denied") });
  });

  test("a path that cannot be looked at is cold", async () => {
    const fs: FsFacts = {
      ...facts({ btrfs: [], subvolumes: [] }),
      realpath: () => {
        throw new Error("ENOENT: gone");
      },
    };
    const r = await locateSources(new FakeRunner(), ["/gone"], fs);
    expect(r["/gone"]).toEqual({ kind: "cold", reason: "cannot look at /gone: ENOENT: gone" });
  });
});

describe("snapshot names", () => {
  test("recognisable as ours, and nothing else is", () => {
    const name = snapshotName("20261201-175500-ab12-01", 2);
    expect(name).toBe(".kopi-docka-snap-20261201-175500-ab12-01-2");
    expect(isOurSnapshot(`/srv/${name}`)).toBe(true);
    for (const p of [
      "/srv/data",
      `srv/${name}`,
      "/srv/.kopi-docka-snap-",
      "/srv/.kopi-docka-snap-x",
      `/srv/../${name}`,
      `/srv/${name}/x`,
    ])
      expect({ p, ours: isOurSnapshot(p) }).toEqual({ p, ours: false });
  });
});

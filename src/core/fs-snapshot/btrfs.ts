import { lstatSync, realpathSync } from "node:fs";
import { dirname, posix } from "node:path";
import { errorMessage } from "../caught.ts";
import type { Runner } from "../process/runner.ts";
import {
  listedAs,
  listSubvolumes,
  madeAfter,
  nestedSubvolumes,
  newestSubvolume,
  removeById,
  type Subvolume,
  TIMEOUT_MS,
} from "./btrfs-subvolume.ts";
import {
  type FsFacts,
  type FsPlacement,
  type FsSnapshotDriver,
  isOurSnapshot,
  type MadeAfter,
} from "./driver.ts";
import { FsSnapshotError } from "./errors.ts";
import { mountPointOf, mountsInside } from "./mounts.ts";

/** statfs magic of btrfs (linux/magic.h BTRFS_SUPER_MAGIC). */
export const BTRFS_MAGIC = 0x9123683e;
/** Inode number of every btrfs subvolume's root directory (BTRFS_FIRST_FREE_OBJECTID). */
const SUBVOLUME_ROOT_INODE = 256;

/**
 * btrfs: `btrfs subvolume snapshot -r` of the subvolume holding the data, made in that subvolume's root
 * (or, when the data is the whole subvolume, beside it, so the container never sees it). A container
 * that mounts that root sees the snapshot and can rename it, put a link at its name, even make it
 * writable: it is known by its id and UUID from the moment it is made, opened and checked to be that
 * subvolume's root before kopia reads it (`view.ts`), checked unchanged after the read, and deleted by
 * its id.
 */
export const btrfs: FsSnapshotDriver = {
  name: "btrfs",
  fsTypes: [BTRFS_MAGIC],

  async locate(runner, realPath, fs) {
    const volume = subvolumeRoot(realPath, fs);
    if (!volume) return cold(`no btrfs subvolume root above ${realPath}`);
    // A snapshot holds one subvolume of one mount: data reached through another mount (a bind mount of
    // a plain directory walks up to the wrong subvolume), or a mount inside it, would be missing.
    const points = fs.mountPoints();
    const holder = mountPointOf(realPath, points);
    if (holder !== mountPointOf(volume, points))
      return cold(
        `${realPath} is on the mount ${holder}, not on its subvolume ${volume}'s: a snapshot would not hold it`,
      );
    const [inner] = mountsInside(realPath, points);
    if (inner)
      return cold(`${inner} is mounted inside the data: a snapshot would hold only its empty mount point`);
    const relative = posix.relative(volume, realPath);
    let into = volume;
    if (relative === "") {
      into = dirname(volume);
      if (volume === "/" || fs.fsType(into) !== BTRFS_MAGIC)
        return cold(`the data is the whole subvolume ${volume}, and its parent directory is not on btrfs`);
      // A btrfs mounted on another btrfs: the parent is btrfs, but a snapshot cannot cross filesystems.
      if (fs.filesystem(volume) !== fs.filesystem(into))
        return cold(
          `the data is the whole subvolume ${volume}, and its parent directory ${into} is on another filesystem`,
        );
    }
    let uuid: string | undefined;
    try {
      const found = await nestedSubvolumes(runner, volume);
      const inside = found.nested.filter(
        (n) => relative === "" || n === relative || n.startsWith(`${relative}/`),
      );
      if (inside.length > 0)
        return cold(
          `subvolume ${posix.join(volume, inside[0] ?? "")} inside the data would be empty in a snapshot`,
        );
      uuid = found.uuid;
    } catch (e) {
      return cold(`btrfs cannot describe subvolume ${volume}: ${errorMessage(e)}`);
    }
    if (!uuid) return cold(`btrfs does not tell subvolume ${volume}'s UUID`);
    return { kind: "snapshot", driver: "btrfs", volume, relative, into, mount: holder, uuid };
  },

  newest: (runner, mount) => newestSubvolume(runner, mount),

  async create(runner, p, signal) {
    try {
      await runner.run(["btrfs", "subvolume", "snapshot", "-r", p.volume, p.snapshot], {
        timeoutMs: TIMEOUT_MS,
        ...(signal ? { signal } : {}),
      });
      // Found by what btrfs knows of it, not at its path: a container seeing the volume's root can
      // have renamed it and put a link to anywhere, or someone's older snapshot, there already.
      const made = madeAfter(await listSubvolumes(runner, p.mount, true), p);
      if (!made) throw new Error(`no read-only snapshot of ${p.volume} newer than subvolume ${p.newerThan}`);
      return { id: made.id, uuid: made.uuid, mount: p.mount, generation: made.generation };
    } catch (e) {
      throw new FsSnapshotError(`btrfs snapshot of ${p.volume} failed: ${errorMessage(e)}`, e);
    }
  },

  async isRoot(runner, dir, s, fs) {
    // The root directory of a subvolume has inode 256; `rootid` names the subvolume holding it.
    if (fs.inode(`${dir}/.`) !== SUBVOLUME_ROOT_INODE) return "not a subvolume's root directory";
    const root = await runner.run(["btrfs", "inspect-internal", "rootid", dir], { timeoutMs: TIMEOUT_MS });
    const id = root.stdout.trim();
    return id === String(s.id) ? undefined : `subvolume ${id}, not ${s.id}`;
  },

  async whereIs(runner, s, fs) {
    const listed = listedAs(await listSubvolumes(runner, s.mount, false), s.id);
    // Listed from the filesystem's top level; the mount shows the part under its root.
    const root = fs.mountRoot(s.mount);
    if (!listed?.path || root === undefined) return undefined;
    const inside = posix.relative(root, `/${listed.path}`);
    return inside.startsWith("..") ? undefined : posix.join(s.mount, inside);
  },

  async changed(runner, s) {
    const now = listedAs(await listSubvolumes(runner, s.mount, true), s.id);
    if (!now) return `subvolume ${s.id} is gone or no longer read-only`;
    if (now.uuid !== s.uuid) return `subvolume ${s.id} has UUID ${now.uuid}, not ${s.uuid}`;
    if (now.generation !== s.generation)
      return `subvolume ${s.id} was changed (generation ${s.generation} → ${now.generation})`;
    return undefined;
  },

  async remove(runner, snapshot, identity, made) {
    if (!isOurSnapshot(snapshot)) throw new FsSnapshotError(`refusing to remove ${snapshot}: not ours`);
    if (identity) return removeById(runner, snapshot, identity);
    if (made) return removeIfMade(runner, snapshot, made);
    // An entry journaled before the mark was (an older kopi-docka): the path, never through a symlink.
    // `btrfs subvolume delete` resolves symlinks: a link at (or above) our name would delete its target.
    if (lstatSync(snapshot, { throwIfNoEntry: false }) && realpathSync(snapshot) !== snapshot)
      throw new FsSnapshotError(`refusing to remove ${snapshot}: a symlink is at or above it`);
    try {
      await runner.run(["btrfs", "subvolume", "delete", snapshot], { timeoutMs: TIMEOUT_MS });
      return true;
    } catch (e) {
      throw new FsSnapshotError(`btrfs could not delete ${snapshot}: ${errorMessage(e)}`, e);
    }
  },
};

const cold = (reason: string): FsPlacement => ({ kind: "cold", reason });

/**
 * The snapshot a run made but never identified (killed, or given up on while btrfs was stuck): the
 * one snapshot of the volume newer than the mark, read-only or not, removed by its id, wherever its
 * name went. None: nothing was made. Several: refused (which one is ours cannot be told).
 */
async function removeIfMade(runner: Runner, snapshot: string, made: MadeAfter): Promise<boolean> {
  let ours: Subvolume | undefined;
  try {
    ours = madeAfter(await listSubvolumes(runner, made.mount, false), made);
  } catch (e) {
    throw new FsSnapshotError(`refusing to remove ${snapshot}: ${errorMessage(e)}`, e);
  }
  return ours ? removeById(runner, snapshot, { ...ours, mount: made.mount }) : false;
}

/** The nearest directory at or above `path` that is a subvolume root, on btrfs all the way. */
function subvolumeRoot(path: string, fs: FsFacts): string | undefined {
  for (let p = path; ; p = dirname(p)) {
    if (fs.fsType(p) !== BTRFS_MAGIC) return undefined;
    if (fs.inode(p) === SUBVOLUME_ROOT_INODE) return p;
    if (p === "/") return undefined;
  }
}

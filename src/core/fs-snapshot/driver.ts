import { basename } from "node:path";
import type { Runner } from "../process/runner.ts";

/**
 * A filesystem that can freeze a directory tree in milliseconds (README "Backup modes", fs-snapshot).
 * One file per filesystem implements it (`btrfs.ts`); `locate.ts` picks the driver by the
 * filesystem's statfs type. LVM thin and ZFS are not built: each would be one more driver here.
 */
export interface FsSnapshotDriver {
  readonly name: FsDriverName;
  /** statfs `f_type` of the filesystems it handles. */
  readonly fsTypes: readonly number[];
  /**
   * Where the data at `realPath` (symlinks resolved, on this driver's filesystem) can be frozen from:
   * the snapshot-able volume holding it and the path inside it, or why it cannot.
   */
  locate(runner: Runner, realPath: string, fs: FsFacts): Promise<FsPlacement>;
  /**
   * A mark taken right before `create`, journaled with it: a snapshot `create` makes is newer than it
   * (btrfs: the highest subvolume id of the filesystem). What tells the snapshot made from one that
   * was there before (someone else's), also when the run ends before it knows the snapshot's id.
   */
  newest(runner: Runner, mount: string): Promise<number>;
  /**
   * Takes the read-only snapshot of `volume` at `snapshot` (it must not exist yet) and says which one
   * it is: the one snapshot of `volumeUuid` newer than `newerThan`, found by what the filesystem knows
   * of it, never at its path (containers that see the volume's root can rename it and plant there).
   */
  create(runner: Runner, p: FrozenSpec, signal?: AbortSignal): Promise<SnapshotIdentity>;
  /**
   * Why the directory at `dir` (an open directory, `/proc/self/fd/<n>`) is not the root of the
   * snapshot `s`, or undefined: opened by a path, it is known by what the filesystem says of it.
   */
  isRoot(runner: Runner, dir: string, s: SnapshotIdentity, fs: FsFacts): Promise<string | undefined>;
  /** Where the snapshot `s` is now on this host, as the filesystem records it (renames included). */
  whereIs(runner: Runner, s: SnapshotIdentity, fs: FsFacts): Promise<string | undefined>;
  /**
   * Why the snapshot is no longer as `create` made it (a container that sees it can make it writable
   * and change it), or undefined. Asked after kopia read it: only an unchanged read is kept.
   */
  changed(runner: Runner, identity: SnapshotIdentity): Promise<string | undefined>;
  /**
   * Removes a snapshot `create` made, by its identity when known: a path the containers can write
   * next to could be renamed or swapped for a link meanwhile. Without one, the one snapshot `made`
   * describes, if there is one. Only ever called with a path `isOurSnapshot` accepts (named in
   * errors); one already gone is no error. True when it deleted one.
   */
  remove(runner: Runner, snapshot: string, identity?: SnapshotIdentity, made?: MadeAfter): Promise<boolean>;
}

/** What tells a snapshot `create` made when its identity was never read: its source, and the mark. */
export interface MadeAfter {
  volumeUuid: string;
  newerThan: number;
  mount: string;
}

/** A snapshot as its filesystem knows it: btrfs's subvolume id and UUID, and the mount reaching it. */
export interface SnapshotIdentity {
  id: number;
  uuid: string;
  /** The filesystem's mount point (root's, unlike the directories under it). */
  mount: string;
  /** The snapshot's generation when made: any change to it raises it. */
  generation: number;
}

export type FsDriverName = "btrfs";

/** Where a frozen copy of one source is taken, and where its data is read from once it exists. */
export interface FrozenSpec {
  driver: FsDriverName;
  /** The snapshot-able volume (a btrfs subvolume root) holding the data. */
  volume: string;
  /** The new snapshot's path (its base name from `snapshotName`). */
  snapshot: string;
  /** The mount point of the filesystem holding `volume`. */
  mount: string;
  /** The volume's UUID, read when it was located: the snapshot made must be of it. */
  volumeUuid: string;
  /** `newest` before the snapshot. */
  newerThan: number;
}

/** How one data source of an `fs-snapshot` unit is read (`backup --dry-run` shows it). */
export type FsPlacement =
  | {
      kind: "snapshot";
      driver: FsDriverName;
      /** The snapshot-able volume holding the data. */
      volume: string;
      /** The data's path inside `volume` ("" for the volume itself). */
      relative: string;
      /** The directory the snapshot is made in (same filesystem as `volume`). */
      into: string;
      /** The mount point of that filesystem. */
      mount: string;
      /** The volume's UUID (btrfs: the subvolume's). */
      uuid: string;
    }
  | { kind: "cold"; reason: string };

/** The filesystem facts detection reads (a test seam: unit tests describe a tree instead). */
export interface FsFacts {
  /** statfs `f_type` of the filesystem holding `path`. */
  fsType(path: string): number;
  /** Inode number of `path`, without following a last symlink. */
  inode(path: string): number;
  realpath(path: string): string;
  /** Identity of the filesystem (superblock) holding `path`: equal for two subvolumes of one btrfs. */
  filesystem(path: string): string;
  /** Every mount point of this host (bind mounts too). */
  mountPoints(): string[];
  /** The root (the part of its filesystem it shows, "/" for all) of the mount at exactly `mountPoint`. */
  mountRoot(mountPoint: string): string | undefined;
}

/** Every snapshot kopi-docka makes is named so; recovery removes nothing else. */
export const SNAPSHOT_PREFIX = ".kopi-docka-snap-";
const OURS = /^\.kopi-docka-snap-[A-Za-z0-9_.-]+-\d+$/;

/** `.kopi-docka-snap-<backupId>-<n>`: the unit's backup id (run id + unit index) and a counter. */
export function snapshotName(backupId: string, n: number): string {
  return `${SNAPSHOT_PREFIX}${backupId.replace(/[^A-Za-z0-9_.-]/g, "_")}-${n}`;
}

/** True only for an absolute path whose last part is a name `snapshotName` makes. */
export function isOurSnapshot(path: string): boolean {
  return path.startsWith("/") && !path.split("/").includes("..") && OURS.test(basename(path));
}

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
   * Takes the read-only snapshot of `volume` at `snapshot` (it must not exist yet) and says which one
   * it is, read while the containers are still stopped (nothing of theirs can have moved it yet).
   */
  create(runner: Runner, p: FrozenSpec, signal?: AbortSignal): Promise<SnapshotIdentity>;
  /**
   * Removes a snapshot `create` made, by its identity when known: a path the containers can write
   * next to could be renamed or swapped for a link meanwhile. Only ever called with a path
   * `isOurSnapshot` accepts; one already gone is no error.
   */
  remove(runner: Runner, snapshot: string, identity?: SnapshotIdentity): Promise<void>;
}

/** A snapshot as its filesystem knows it: btrfs's subvolume id and UUID, and the mount reaching it. */
export interface SnapshotIdentity {
  id: number;
  uuid: string;
  /** The filesystem's mount point (root's, unlike the directories under it). */
  mount: string;
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

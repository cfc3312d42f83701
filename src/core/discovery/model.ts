/**
 * The discovery model: what is on this Docker host, grouped into backup units. Produced by
 * `discoverUnits()` (discovery/discover.ts), consumed by planning (backup/plan.ts), `list`, and restore.
 * Plain data, JSON-serialisable (`list --json` prints it), except `env`, which never leaves memory.
 */
import type { ContainerInspect, NetworkInspect } from "../docker/schemas.ts";

export type UnitType = "compose" | "standalone";

/** How a unit's data is read (README "Backup modes"). */
export const BACKUP_MODES = ["cold", "warm-then-cold", "live", "dump", "fs-snapshot"] as const;
export type BackupMode = (typeof BACKUP_MODES)[number];

export interface MountInfo {
  type: "volume" | "bind" | "tmpfs" | "npipe" | "cluster";
  /** Host path for binds; the volume's mountpoint for volumes. */
  source: string;
  destination: string;
  readOnly: boolean;
  /** Set for type "volume". */
  volumeName?: string;
}

export interface ComposeInfo {
  project: string;
  service: string;
  /** Host directory the project was started from (label `…project.working_dir`). */
  workingDir?: string;
  /** Compose file paths exactly as the labels give them (v1: maybe relative to workingDir). */
  configFiles: string[];
  /** Services this one depends on (v2 label `com.docker.compose.depends_on`, or the compose files). */
  dependsOn: string[];
  containerNumber?: number;
  oneoff: boolean;
  /** Compose version that created it (v1 "1.29.2", v2 "2.x"). */
  version?: string;
}

export interface ContainerInfo {
  id: string;
  name: string;
  image: string;
  imageId: string;
  /** Repo digests of the image (empty for locally built images). */
  imageDigests: string[];
  state: string;
  running: boolean;
  /** True when the container is paused (`running` is true as well). */
  paused?: boolean;
  health?: "starting" | "healthy" | "unhealthy";
  restartPolicy: string;
  labels: Record<string, string>;
  /** Environment, for redaction decisions and `docker run` rebuilding. Never serialised. */
  env: Record<string, string>;
  mounts: MountInfo[];
  /** Network names the container is attached to. */
  networks: string[];
  compose?: ComposeInfo;
  /** Database engine guessed from the image ("postgres", "mysql", "mariadb", "mongodb", "redis", …). */
  database?: string;
  /** Container-specific stop timeout (`Config.StopTimeout`), seconds. */
  stopTimeout?: number;
  /**
   * The `kopi-docka.stop-timeout` label as set (checked where the plan reads it); dropped when only an
   * untrusted image sets it.
   */
  stopTimeoutLabel?: string;
  /**
   * Started with `docker run --rm` (`HostConfig.AutoRemove`): a `docker stop` deletes it and its
   * anonymous volumes, so a backup never stops it.
   */
  autoRemove?: true;
  /** False when labelled `kopi-docka.stop=false`: backed up live, never stopped. */
  stop: boolean;
  /** From the `kopi-docka.mode` label, when it names a known mode. */
  mode?: BackupMode;
  /** The `kopi-docka.dump` label as set (a preset name; checked where the dump is planned). */
  dump?: string;
  /**
   * `kopi-docka.*` labels the container has because its image sets them (same value in the image's
   * labels): whoever built the image chose them, not this host's admin. With `imageUnknown`, every one
   * it has: any may be the image's.
   */
  imageLabels?: string[];
  /** Its image could not be inspected (deleted while the container exists): who set its labels is unknown. */
  imageUnknown?: true;
  /** Image labels that would have left data out and were ignored, each with how to confirm it. */
  ignoredLabels?: string[];
  /** The full `docker inspect` object (unredacted; redact before writing anywhere). */
  inspect: ContainerInspect;
}

export interface VolumeInfo {
  name: string;
  driver: string;
  options: Record<string, string>;
  labels: Record<string, string>;
  mountpoint: string;
  scope: string;
  /**
   * Where a cold backup reads the data when it is not the mountpoint: the `device` directory of a
   * `local` volume with `o=bind` (Docker unmounts the mountpoint when the last container stops).
   */
  dataPath?: string;
  /** Set when no host path holds the data while the unit is stopped (nfs, cifs, other drivers): why. */
  notProtected?: string;
  /** Names of the unit's containers that mount it. */
  usedBy: string[];
  /**
   * Running containers the unit's backup does not stop that mount it writable (another unit's, or
   * one left out of a unit): read live by a cold backup.
   */
  writtenByOthers?: string[];
  sizeBytes?: number;
  /** True when the size walk hit its bound: `sizeBytes` is a lower bound. */
  sizeTruncated?: boolean;
}

export interface BindMountInfo {
  /** Host path. */
  source: string;
  /** Every container mount of this source within the unit. */
  targets: { container: string; destination: string; readOnly: boolean }[];
  /** True only when every target mounts it read-only. */
  readOnly: boolean;
  /** What is at the host path now. */
  kind: "directory" | "file" | "missing" | "other";
  /** As `VolumeInfo.writtenByOthers`, for a mount of it or of a path over or under it. */
  writtenByOthers?: string[];
  sizeBytes?: number;
  /** True when the size walk hit its bound: `sizeBytes` is a lower bound. */
  sizeTruncated?: boolean;
}

export interface NetworkInfo {
  name: string;
  id: string;
  driver: string;
  /** The full `docker network inspect` object. */
  inspect: NetworkInspect;
  usedBy: string[];
}

export interface ComposeFileInfo {
  /** Path as recorded in the labels. */
  labelPath: string;
  /** Where it is on this host (after v1 relative-path and manager-container translation). */
  hostPath?: string;
  found: boolean;
}

/** Something discovery saw and will not back up, and why. `list` shows these. */
export interface SkippedItem {
  kind: "container" | "volume" | "network" | "bind" | "compose_file" | "mount";
  id: string;
  reason: string;
  /** Data the unit uses that kopi-docka cannot read (not a choice to leave it out): shown loudly. */
  notProtected?: true;
}

/**
 * A container discovery found in a unit and leaves out of its backup (excluded by label, a one-off
 * `compose run`, a standalone container under a compose project's name). The unit's backup does not
 * stop it either: what it mounts writable it may keep writing.
 */
export interface SkippedContainer {
  name: string;
  running: boolean;
  mounts: MountInfo[];
  /** Why it is left out (its `skipped` item says the same, and what to do). */
  reason: string;
}

export interface Unit {
  name: string;
  type: UnitType;
  /**
   * The unit's containers, sorted by name (start order is backup/order.ts's job). Containers excluded
   * by label are not here; they are in `skipped`.
   */
  containers: ContainerInfo[];
  volumes: VolumeInfo[];
  bindMounts: BindMountInfo[];
  /** Custom networks (not bridge/host/none) the unit's containers use. */
  networks: NetworkInfo[];
  composeFiles: ComposeFileInfo[];
  workingDir?: string;
  /** Set when the whole unit is excluded (label or config); nothing of it is backed up. */
  excluded?: string;
  skipped: SkippedItem[];
  /** The containers behind the `container` items of `skipped`, with their mounts; absent when none. */
  skippedContainers?: SkippedContainer[];
  /** `[units.X] mode` over the containers' `kopi-docka.mode` labels; "cold" when neither says. */
  mode: BackupMode;
}

export interface Discovery {
  units: Unit[];
  /** ISO time of discovery. */
  discoveredAt: string;
  dockerVersion?: string;
}

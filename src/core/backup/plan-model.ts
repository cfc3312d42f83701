import type { Scope } from "../../config/schema.ts";
import type { BackupMode, UnitType } from "../discovery/model.ts";
import type { FsPlacement } from "../fs-snapshot/driver.ts";
import type { SnapshotTags, SnapshotType } from "../snapshot/tags.ts";
import type { HeldContainer } from "./held.ts";

/**
 * The backup plan: everything `backup` will do, decided up front by `planBackup` (pure). Plain data;
 * `backup --dry-run --json` prints it as is. It never holds a container's environment.
 */
export interface BackupPlan {
  runId: string;
  /** ISO time the plan was made. */
  createdAt: string;
  hostname: string;
  scope: Scope;
  units: UnitPlan[];
  /** Units discovery found that this run leaves out, with the reason. */
  skippedUnits: { name: string; reason: string }[];
  /** Sum of the known source sizes: walked now, else the last snapshot's. */
  estimatedBytes: number;
}

/**
 * What happens to one container during its unit's backup. "kept_running": it would be stopped, but its
 * unit is `refused` (nothing of it is stopped or read).
 */
export type ContainerAction = "stop" | "live" | "stays_stopped" | "kept_running";

export interface ContainerPlan {
  id: string;
  name: string;
  service?: string;
  action: ContainerAction;
  reason: string;
  /** Seconds `docker stop -t` gets, and where the value came from. */
  stopTimeout: number;
  stopTimeoutFrom: "label" | "unit" | "container" | "global";
  /** A stop-timeout label ignored, or the container's own StopTimeout capped: what and why. */
  stopTimeoutWarning?: string;
  hasHealthcheck: boolean;
  /** Docker's restart policy ("no", "always", …): under "no" a container that exits after our start stays down. */
  restartPolicy?: string;
  /** Started with `docker run --rm`: never stopped (docker would delete it). */
  autoRemove?: true;
  /** A Docker Swarm task's container: never stopped (the swarm would replace it, `swarm.ts`). */
  swarmTask?: true;
}

export interface SourcePlan {
  type: SnapshotType;
  /** Short human label: volume name, bind path, "recipe", … */
  label: string;
  /** What kopia reads: a volume's mountpoint, a bind's host path, or a staging directory. */
  path: string;
  /** Recorded as `--override-source <user>@<host>:<logicalPath>`. */
  logicalPath: string;
  tags: SnapshotTags;
  /** Kopia ignore rules applied to this source (volumes and binds). */
  excludePatterns: string[];
  /** Walked on the host now (dry runs only); a lower bound when the walk hit its limits. */
  sizeBytes?: number;
  /** type "dump": the container, the command run in it, the file the stream is kept as; or why not. */
  dump?: { container: string; argv: string[]; file: string; problem?: string };
  /** The size of this source's last saved snapshot (kopia's `rootEntry.summ.size`, from the run records). */
  lastSnapshotBytes?: number;
  reason: string;
  /** `fs-snapshot` units' volumes and binds: frozen by a filesystem snapshot, or read cold and why. */
  fsSnapshot?: FsPlacement;
  /** Running containers of other units that write to it: not stopped by this unit's backup. */
  writtenByOthers?: string[];
}

/** A source holding the unit's data (a volume or a bind), as opposed to what kopi-docka stages or dumps. */
export const isDataSource = (s: Pick<SourcePlan, "type">): boolean =>
  s.type === "volume" || s.type === "bind";

export interface UnitPlan {
  name: string;
  /** "warm-then-cold": a warm pass of the data sources before the stop (`warm.ts`). */
  mode: BackupMode;
  /** The bound on this unit's cold window (`max_cold_seconds`, unit over global); absent: none. */
  maxColdSeconds?: number;
  type: UnitType;
  /**
   * Why the unit is not backed up at all: the run stops nothing of it, runs none of its hooks, takes
   * none of its snapshots, expires none of its points, and records it as failed with this reason
   * (`refusals.ts`).
   */
  refused?: string;
  /** The containers that make it `refused`, and what a person does about it. */
  refusedBy?: { containers: string[]; next: string };
  backupId: string;
  /** Every container of the unit, in start (dependency) order. */
  containers: ContainerPlan[];
  /** Names of containers to stop, in stop order (reverse dependency order; databases last). */
  stopOrder: string[];
  /** Names of the containers to start again, in dependency order (the stopped ones only). */
  startOrder: string[];
  sources: SourcePlan[];
  /** Things left out, and why (from discovery and from the config). */
  skipped: { kind: string; id: string; reason: string; notProtected?: true }[];
  hooks: { preBackup?: string; postBackup?: string };
  estimatedBytes: number;
  /** Cold window of this unit in the last recorded run, when there is one. */
  predictedColdWindowMs?: number;
}

export interface PlanOptions {
  runId: string;
  hostname: string;
  version: string;
  /** `<cache_dir>/staging`. */
  stagingDir: string;
  /** Only these units (by name); all when empty or unset. */
  units?: string[];
  /** `--scope`; the config's `backup.scope` when unset. */
  scope?: Scope;
  /** Cold window per unit from the last run record. */
  lastColdWindows?: Record<string, number>;
  /** Last saved snapshot size per source, keyed by `sourceKey` (from the run records). */
  lastSourceBytes?: Record<string, number>;
  /** Containers a restore left held (the restart journal's `hold`): their units are refused. */
  held?: readonly HeldContainer[];
}

import type { UnitOverride } from "../../config/schema.ts";
import type { NetworkInspect } from "../docker/schemas.ts";
import type { FileAttributes } from "../snapshot/file-attributes.ts";
import type { ComposeFacts } from "./compose-facts.ts";
import type { ComposeHostUse } from "./compose-host.ts";
import type { ComposeOverride } from "./compose-override.ts";
import type { CopyNaming } from "./copy-naming.ts";
import type { ProjectNameEdit } from "./copy-project-name.ts";
import type { DumpStep } from "./dumps.ts";
import type { RestorePoint } from "./points.ts";
import type { LoadedRecipe } from "./recipe.ts";

/** What to bring back, as the wizard or the flags decided it. Plain data. */
export interface RestoreRequest {
  /** Host the point was recorded on. */
  host: string;
  unit: string;
  /** `RestorePoint.key` (`<unit>@<backup_id>`). */
  point: string;
  /** all: volumes, binds, networks, recipe. volumes: only `volumes` (all when unset). */
  what: "all" | "volumes" | "binds" | "recipe";
  volumes?: string[];
  /** Side-by-side copy under this compose project name; unset: in place. */
  as?: string;
  /** Where the recipe files go; default `<paths.restore_dir>/<unit or as>`. */
  targetDir?: string;
  start: boolean;
  recreateNetworks: boolean;
  /** Compose and project files that differ from the backup's may be replaced (each kept as `.bak-<time>`). */
  replaceFiles?: boolean;
  /** Absolute path of a docker env file whose values replace saved (and redacted) ones on `--start`. */
  envFile?: string;
  /** Host-internal paths (`backup.host_internal_paths`) the person confirmed, exactly (`--allow-path`). */
  allowPaths?: string[];
}

export interface ContainerState {
  id: string;
  name: string;
  running: boolean;
  /** Names of the volumes it mounts. */
  volumes: string[];
  /** Host paths it bind-mounts. */
  binds: string[];
  /** Running only: the device directories of the bind volumes it mounts, where it writes their data. */
  devices?: string[];
  /** Its labels (compose project and service find a copy's containers); absent in older callers. */
  labels?: Record<string, string>;
  /**
   * Its `kopi-docka.unit` label does not count as its own (`host-units.ts`): an untrusted image set it
   * ("image"), or its image is gone ("unknown"). Absent: the label is its own, or it has none.
   */
  unitLabel?: "image" | "unknown";
  /** Paused (`docker pause`): a restore that stops it pauses it again once it runs again. */
  paused?: true;
  /** Started with `docker run --rm`: a `docker stop` deletes it (and its anonymous volumes). */
  autoRemove?: true;
  /** Stopped and held by a restore that did not finish (the restart journal's `hold`): why. */
  held?: string;
  /** The units whose restores hold it (a whole restore of that unit in place ends the hold). */
  heldBy?: string[];
  /** Its image is a database's (`guessDatabase`): started first among the containers free to go. */
  database?: true;
  /** The containers it cannot start without (`containersNeeded`: network_mode, volumes_from). */
  needs?: string[];
}

/** What planning needs to know: this host now, the chosen point's recipe, and the settings. */
export interface CurrentState {
  /**
   * Existing volumes by name. `notProtected`: why this host cannot restore into it (its data lives
   * elsewhere, or in a host-internal directory), as a backup would skip it.
   */
  volumes: Record<string, { mountpoint: string; labels: Record<string, string>; notProtected?: string }>;
  /**
   * The device directories of bind volumes a restore would create (their path from the recipe), and
   * what is there now: Docker removes a volume, never its device's files.
   */
  devices?: Record<string, "missing" | "empty" | "data" | "other">;
  /** Existing networks by name. */
  networks: Record<string, { driver: string; subnets: string[] }>;
  containers: ContainerState[];
  /** What is at each path that may be written (bind sources, target files). */
  paths: Record<string, "directory" | "file" | "missing" | "other">;
  /**
   * Paths that may be written which have a symlink at or above them (below the trusted root):
   * the first link, where it points, and where the path resolves to.
   */
  symlinks?: Record<string, { link: string; to: string; resolved: string }>;
  /** `backup.exclude_patterns`: files a backup leaves out, so an overwrite in place drops them. */
  excludePatterns?: readonly string[];
  /** `backup.host_internal_paths` and basenames: a bind restored there needs `--allow-path`. */
  hostInternal?: { host_internal_paths: readonly string[]; host_internal_basenames: readonly string[] };
  /** sha256 of existing files in the target dir. */
  fileHashes: Record<string, string>;
  recipe?: LoadedRecipe;
  restoreDir: string;
  hooks: { pre_restore: string; post_restore: string };
  /** What the recipe's compose files fix themselves (compose-facts.ts); unset: no compose files read. */
  compose?: ComposeFacts;
  /**
   * What `compose up` of the recipe's compose files takes from this host (compose-host.ts). Unset:
   * not read, and a compose unit is then never started.
   */
  composeUse?: ComposeHostUse;
  /** A compose copy's (`--as`) edits that make its files name its own project (copy-naming.ts). */
  copyNaming?: CopyNaming;
  /**
   * `COMPOSE_PROJECT_NAME` in kopi-docka's own environment: the compose it runs inherits it and
   * interpolates it over a `.env`'s (copy-variable.ts).
   */
  inheritedProjectName?: string;
  /** This host's `[units.<unit>]` settings (a dump's restore command). */
  unitConfig?: UnitOverride;
  /**
   * With `--start` of a standalone unit: the `Config` of each image its containers were run from
   * (`Config.Image`), as this host has it. An image absent here could not be inspected.
   */
  images?: Record<string, Record<string, unknown>>;
  /** Keys the request's `envFile` defines (values are never read into the plan). */
  envFileKeys?: string[];
  /** Set when that file is readable by group or others (it holds secrets; 0600 is expected). */
  envFileOpen?: boolean;
}

export interface VolumeStep {
  /** Name on this host after the restore (differs from `from` with `--as`). */
  name: string;
  from: string;
  snapshotId: string;
  sizeBytes: number;
  files: number;
  action: "create" | "overwrite";
  driver: string;
  options: Record<string, string>;
  labels: Record<string, string>;
}

export interface BindStep {
  from: string;
  path: string;
  snapshotId: string;
  sizeBytes: number;
  files: number;
  action: "create" | "overwrite";
  /** A bind mount of a single file is restored as that file, not as a directory. */
  kind: "directory" | "file";
  /** Where it is written when a symlink the backup recorded lies on its way (resolved as at backup). */
  realPath?: string;
}

export interface NetworkStep {
  name: string;
  /** conflict: exists with another driver or subnet and the request did not allow replacing it. */
  action: "create" | "keep" | "recreate" | "conflict";
  inspect: NetworkInspect;
  note?: string;
  /** The recorded subnets are passed on create: the user fixed them (or kopi-docka cannot tell). */
  pinSubnets: boolean;
}

export interface FileStep {
  /** Path inside the recipe. */
  stored: string;
  to: string;
  action: "create" | "overwrite" | "same";
  /** The mode, owner and mtime the backup recorded; absent: written as older recipes were. */
  attributes?: FileAttributes;
  /** A copy's file, written naming the copy's compose project instead of the original's. */
  projectName?: ProjectNameEdit;
}

export type StartStep =
  | {
      kind: "compose";
      project: string;
      /** The compose files, then the override when there is one. */
      files: string[];
      /** The project directory (`--project-directory`); relative paths resolve against it. */
      cwd: string;
      /** Services started alone first, when dumps are fed: the databases; the rest once they are fed. */
      first?: string[];
    }
  | {
      kind: "run";
      /**
       * `argv`: the arguments of `docker run -d` (the docker client adds the command); `env`: `KEY=value`
       * entries, handed to docker in a private env file at start, never in argv.
       */
      containers: {
        name: string;
        argv: string[];
        env: string[];
        /**
         * A container of that name exists already, so it is not recreated: "stopped" is started
         * (`docker start`) once its data is restored; "held" is stopped too, but an interrupted restore
         * holds it (half-restored data), so it stays stopped; "settles": held so, but this restore
         * makes its data whole and ends the hold (`settle-held.ts`), so it is started too, once it has;
         * "running" is left as it is.
         */
        exists?: "running" | "stopped" | "held" | "settles";
      }[];
    };

/** Everything a restore will do, in order. Pure data: `--dry-run` prints it, the executor walks it. */
export interface RestorePlan {
  request: RestoreRequest;
  point: Omit<RestorePoint, "volumes" | "binds">;
  unitType: "compose" | "standalone" | "unknown";
  project: string;
  targetDir: string;
  hooks: { pre: string; post: string };
  /**
   * Running containers that use what is restored, in the order they are stopped (`stop-order.ts`):
   * stopped first, started again in the reverse order once the data is restored; `paused`: paused
   * again once it runs (`readiness.ts`).
   */
  stop: { id: string; name: string; paused?: true }[];
  /**
   * Every container, running or not, that uses what is restored: one an interrupted restore held is
   * whole again only when this restore replaced its data (`settleHeld`).
   */
  users?: string[];
  /** Existing volumes and binds that get an undo snapshot before they are overwritten. */
  undo: { kind: "volume" | "bind"; name: string; path: string }[];
  volumes: VolumeStep[];
  binds: BindStep[];
  networks: NetworkStep[];
  files: FileStep[];
  /** Database dumps fed back through their restore command, once every container runs again. */
  dumps?: DumpStep[];
  /** The override file that pins a relocated unit's bind mounts and any unit's anonymous volumes. */
  override?: ComposeOverride;
  start?: StartStep;
  /** What the backup protected (its recipe says so) but this point has no snapshot of. */
  missing: string[];
  /** Why this plan must not run as it is (a network it may not replace, a container it cannot start). */
  refusals: string[];
  /** Host-internal paths the plan would write to: refused until confirmed exactly (`--allow-path`). */
  confirmPaths?: string[];
  warnings: string[];
}

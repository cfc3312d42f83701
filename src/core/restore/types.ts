import type { NetworkInspect } from "../docker/schemas.ts";
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
  /** Absolute path of a docker env file whose values replace saved (and redacted) ones on `--start`. */
  envFile?: string;
}

export interface ContainerState {
  id: string;
  name: string;
  running: boolean;
  /** Names of the volumes it mounts. */
  volumes: string[];
  /** Host paths it bind-mounts. */
  binds: string[];
}

/** What planning needs to know: this host now, the chosen point's recipe, and the settings. */
export interface CurrentState {
  /** Existing volumes by name. */
  volumes: Record<string, { mountpoint: string; labels: Record<string, string> }>;
  /** Existing networks by name. */
  networks: Record<string, { driver: string; subnets: string[] }>;
  containers: ContainerState[];
  /** What is at each path that may be written (bind sources, target files). */
  paths: Record<string, "directory" | "file" | "missing" | "other">;
  /** sha256 of existing files in the target dir. */
  fileHashes: Record<string, string>;
  recipe?: LoadedRecipe;
  restoreDir: string;
  hooks: { pre_restore: string; post_restore: string };
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
}

export interface NetworkStep {
  name: string;
  /** conflict: exists with another driver or subnet and the request did not allow replacing it. */
  action: "create" | "keep" | "recreate" | "conflict";
  inspect: NetworkInspect;
  note?: string;
}

export interface FileStep {
  /** Path inside the recipe. */
  stored: string;
  to: string;
  action: "create" | "overwrite" | "same";
}

export type StartStep =
  | { kind: "compose"; project: string; files: string[]; cwd: string }
  | { kind: "run"; containers: { name: string; argv: string[] }[] };

/** Everything a restore will do, in order. Pure data: `--dry-run` prints it, the executor walks it. */
export interface RestorePlan {
  request: RestoreRequest;
  point: Omit<RestorePoint, "volumes" | "binds">;
  unitType: "compose" | "standalone" | "unknown";
  project: string;
  targetDir: string;
  hooks: { pre: string; post: string };
  /** Running containers that use what is restored: stopped first, started again on success. */
  stop: { id: string; name: string }[];
  /** Existing volumes and binds that get an undo snapshot before they are overwritten. */
  undo: { kind: "volume" | "bind"; name: string; path: string }[];
  volumes: VolumeStep[];
  binds: BindStep[];
  networks: NetworkStep[];
  files: FileStep[];
  start?: StartStep;
  /** What the backup protected (its recipe says so) but this point has no snapshot of. */
  missing: string[];
  /** Why this plan must not run as it is (a network it may not replace, a container it cannot start). */
  refusals: string[];
  warnings: string[];
}

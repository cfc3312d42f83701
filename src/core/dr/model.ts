/** What a DR bundle holds, as data. The layout inside the tar is in `contents.ts`. */

/** Top directory of the tar: `age -d bundle.age | tar x` makes exactly this one directory. */
export const BUNDLE_DIR = "kopi-docka-dr";
export const BUNDLE_FORMAT = 1;

/**
 * A file the config points at (`*_file` keys: credentials, CA bundles, URL files; `${file:…}` in an alert
 * URL), carried verbatim.
 */
export interface CarriedFile {
  /** Dotted config key, e.g. `repository.key_file` (for an alert URL's file: the URL's key). */
  key: string;
  /** Where it was on the old host, and where recover.sh puts it back. */
  path: string;
  data: Uint8Array;
}

/** A secret the config names by environment variable (`*_env` keys, `${VAR}` in an alert URL); its value at export time. */
export interface EnvSecret {
  key: string;
  variable: string;
  value: string;
}

/** One unit and its newest complete restore point (what recover.sh restores). */
export interface UnitEntry {
  unit: string;
  host: string;
  point: string;
  backupId: string;
  timestamp: string;
  volumes: string[];
  sizeBytes: number;
}

export interface BundleInput {
  createdAt: Date;
  /** The host name snapshots are recorded under (what `--from-host` takes). */
  host: string;
  version: string;
  kopiaVersion: string | undefined;
  /** Where the config file was on the old host (recover.sh puts it back there). */
  configPath: string;
  configText: string;
  passwordFile: string;
  password: string;
  carried: CarriedFile[];
  env: EnvSecret[];
  repositoryStatus: unknown;
  units: UnitEntry[];
  /** The newest run records, file name and text. */
  runs: { name: string; text: string }[];
}

/** manifest.json: what a reader (`dr drill`, recover.sh) needs to find everything else. */
export interface BundleManifest {
  format: number;
  created: string;
  host: string;
  kopi_docka_version: string;
  kopia_version?: string;
  config_path: string;
  password_file: string;
  /** Carried files: config key, original path, path inside the bundle. */
  files: { key: string; path: string; stored: string }[];
  /** Variables whose values are in `secrets/env`. */
  env: { key: string; variable: string }[];
  units: UnitEntry[];
}

export interface BundleEntry {
  /** Path inside the tar, under BUNDLE_DIR. */
  name: string;
  data: Uint8Array;
  mode: number;
}

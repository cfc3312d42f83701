import { hostname as osHostname } from "node:os";
import { join } from "node:path";
import type { Config } from "./schema.ts";

/** Everything on disk kopi-docka owns, derived from `[paths]` and `[repository]` in one place. */
export interface ResolvedPaths {
  stateDir: string;
  cacheDir: string;
  lockFile: string;
  restoreDir: string;
  passwordFile: string;
  /** kopia's config for our connection; never the user's default ~/.config/kopia/repository.config. */
  kopiaConfigFile: string;
  kopiaCacheDir: string;
  kopiaLogDir: string;
  runsDir: string;
  journalDir: string;
  stagingDir: string;
}

export function resolvePaths(config: Config): ResolvedPaths {
  const { state_dir, cache_dir, lock_file, restore_dir } = config.paths;
  return {
    stateDir: state_dir,
    cacheDir: cache_dir,
    lockFile: lock_file,
    restoreDir: restore_dir,
    passwordFile: config.repository.password_file,
    kopiaConfigFile: join(state_dir, "kopia", "repository.config"),
    kopiaCacheDir: join(cache_dir, "kopia"),
    kopiaLogDir: join(cache_dir, "kopia-logs"),
    runsDir: join(state_dir, "runs"),
    journalDir: join(state_dir, "journal"),
    stagingDir: join(cache_dir, "staging"),
  };
}

/** The user name every snapshot is recorded under, whoever runs the tool. */
export const KOPIA_USERNAME = "kopi-docka";

/**
 * The host name snapshots are recorded under: the configured one, else this machine's name the way
 * kopia itself would shorten it (lower-case, up to the first dot), so histories stay stable.
 */
export function snapshotHostname(config: Config, machineName = osHostname()): string {
  if (config.repository.hostname) return config.repository.hostname;
  return (machineName.toLowerCase().split(".")[0] ?? "") || "localhost";
}

import { existsSync } from "node:fs";
import { DEFAULT_CONFIG_PATH } from "../../config/load.ts";

/** An installed service of ours and the config its ExecStart names (undefined: the default path). */
export interface InstalledService {
  unit: string;
  configPath: string | undefined;
}

export interface ConfigsToCheck {
  /** Each config file a run on this host reads, once. */
  paths: string[];
  /** What could not be checked, for the log. */
  warnings: string[];
}

/**
 * The config files the new binary must accept before it is renamed in: the one this command read,
 * and the one each installed service reads. `install.sh --config /srv/kd.toml` writes that path into
 * ExecStart, so a plain `kopi-docka upgrade` finds no file at the default path and would check nothing;
 * the timer would then run a binary that rejects its config, every night, before any alert is read.
 */
export function configsToCheck(
  read: string | undefined,
  services: InstalledService[],
  exists: (path: string) => boolean = existsSync,
): ConfigsToCheck {
  const paths = read ? [read] : [];
  const warnings: string[] = [];
  for (const s of services) {
    const path = s.configPath ?? DEFAULT_CONFIG_PATH;
    if (paths.includes(path)) continue;
    if (exists(path)) paths.push(path);
    // No --config and no default file: that service runs on the built-in defaults, nothing to check.
    else if (s.configPath) warnings.push(`${s.unit} reads ${path}, which does not exist: not checked`);
  }
  if (paths.length === 0)
    warnings.push(
      "no config file found to check the new binary against (none at the default path, none named by an installed service); pass --config FILE (or --unit-dir DIR) if runs here read one",
    );
  return { paths, warnings };
}

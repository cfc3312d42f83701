import {
  chmodSync,
  copyFileSync,
  existsSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { UsageError } from "../core/errors.ts";
import type { InstalledService } from "../core/upgrade/configs.ts";
import { FRESHNESS_SERVICE, FRESHNESS_TIMER } from "./freshness-units.ts";
import { installedParams } from "./parse.ts";
import { SERVICE_UNIT, TIMER_UNIT, UNIT_MARKER } from "./units.ts";

export interface UnitOnDisk {
  name: string;
  path: string;
  /** File content; undefined when there is no file. */
  text: string | undefined;
  /** Written by kopi-docka (first line is the marker). */
  ours: boolean;
}

/** Every unit kopi-docka writes, timers first (the order uninstall takes them away in). */
const OUR_UNITS = [TIMER_UNIT, SERVICE_UNIT, FRESHNESS_TIMER, FRESHNESS_SERVICE];

/** Each unit kopi-docka writes as it is in `dir`; `foreign`: those of its names someone else wrote. */
export function readOurUnits(dir: string): { units: UnitOnDisk[]; foreign: string[] } {
  const units = OUR_UNITS.map((name) => readUnit(dir, name));
  return { units, foreign: units.filter((u) => u.text !== undefined && !u.ours).map((u) => u.path) };
}

/** Our services installed in `dir`, each with the config its ExecStart names (for `upgrade`). */
export function installedServices(dir: string): InstalledService[] {
  return [SERVICE_UNIT, FRESHNESS_SERVICE]
    .map((name) => readUnit(dir, name))
    .filter((u) => u.ours)
    .map((u) => ({ unit: u.path, configPath: installedParams(u.text, undefined).configPath }));
}

/** The unit directory must exist: a typo in --unit-dir must not create a directory systemd never reads. */
export function requireUnitDir(dir: string): string {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    throw new UsageError(
      `--unit-dir ${abs} is not a directory`,
      "pass an existing directory (default /etc/systemd/system)",
    );
  }
  return abs;
}

export function readUnit(dir: string, name: string): UnitOnDisk {
  const path = join(dir, name);
  const text = existsSync(path) ? readFileSync(path, "utf8") : undefined;
  return { name, path, text, ours: text?.split("\n", 1)[0] === UNIT_MARKER };
}

/**
 * Writes through a temp file and a rename, so systemd never reads half a unit. A replaced file is
 * kept beside it as `<name>.bak-<time>` (systemd ignores that suffix); returns that path.
 */
export function writeUnit(path: string, text: string, replacing: boolean, now: Date): string | undefined {
  let backup: string | undefined;
  if (replacing) {
    backup = `${path}.bak-${now.toISOString().replace(/[:.]/g, "-")}`;
    copyFileSync(path, backup);
  }
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  chmodSync(tmp, 0o644); // whatever the umask: units are world-readable, like systemd's own
  renameSync(tmp, path);
  return backup;
}

export function removeUnit(path: string): void {
  rmSync(path, { force: true });
}

/**
 * `systemctl enable` links `<dir>/timers.target.wants/<timer>` to the timer. Removes that link when it
 * points at our timer (where systemctl cannot run, it would otherwise dangle); returns whether it did.
 */
export function removeWantsLink(dir: string, timerName: string): boolean {
  const link = join(dir, "timers.target.wants", timerName);
  let target: string;
  try {
    target = readlinkSync(link);
  } catch {
    return false;
  }
  if (resolve(join(dir, "timers.target.wants"), target) !== join(dir, timerName)) return false;
  rmSync(link, { force: true });
  return true;
}

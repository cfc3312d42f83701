import { join } from "node:path";
import { readOurUnits, removeUnit, removeWantsLink } from "./files.ts";
import { FRESHNESS_TIMER } from "./freshness-units.ts";
import type { SystemdDeps } from "./install.ts";
import { systemctl, systemctlArgv } from "./systemctl.ts";
import { TIMER_UNIT } from "./units.ts";

export interface UninstallResult {
  unitDir: string;
  removed: string[];
  /** Files with our names that kopi-docka did not write: left alone. */
  kept: string[];
  ran: string[][];
  toRun: string[][];
}

const TIMERS = [TIMER_UNIT, FRESHNESS_TIMER];

/**
 * Disables the timers and removes our units. A file is removed only when it carries the marker
 * line; a same-named unit someone wrote by hand stays, and so does anything else in the directory.
 */
export async function uninstallUnits(unitDir: string, deps: SystemdDeps): Promise<UninstallResult> {
  const { units, foreign } = readOurUnits(unitDir);
  const ours = units.filter((u) => u.ours);
  const result: UninstallResult = {
    unitDir,
    removed: [],
    kept: foreign,
    ran: [],
    toRun: [],
  };
  const timers = TIMERS.filter((t) => ours.some((u) => u.name === t));
  // A running backup is left to finish: only the timers are stopped, never the service.
  if (deps.systemdRunning && timers.length > 0) await run(deps, result, systemctlArgv.disableNow(...timers));
  for (const timer of timers.filter((t) => removeWantsLink(unitDir, t)))
    result.removed.push(join(unitDir, "timers.target.wants", timer));
  for (const u of ours) {
    removeUnit(u.path);
    result.removed.push(u.path);
  }
  if (ours.length === 0) return result;
  if (deps.systemdRunning) await run(deps, result, systemctlArgv.daemonReload());
  else
    result.toRun = [
      ...(timers.length > 0 ? [systemctlArgv.stop(...timers)] : []),
      systemctlArgv.daemonReload(),
    ];
  return result;
}

async function run(deps: SystemdDeps, result: UninstallResult, argv: string[]): Promise<void> {
  await systemctl(deps.runner, argv);
  result.ran.push(argv);
}

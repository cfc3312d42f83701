import { join } from "node:path";
import { readUnit, removeUnit, removeWantsLink } from "./files.ts";
import type { SystemdDeps } from "./install.ts";
import { systemctl, systemctlArgv } from "./systemctl.ts";
import { SERVICE_UNIT, TIMER_UNIT } from "./units.ts";

export interface UninstallResult {
  unitDir: string;
  removed: string[];
  /** Files with our names that kopi-docka did not write: left alone. */
  kept: string[];
  ran: string[][];
  toRun: string[][];
}

/**
 * Disables the timer and removes our two units. A file is removed only when it carries the marker
 * line; a same-named unit someone wrote by hand stays, and so does anything else in the directory.
 */
export async function uninstallUnits(unitDir: string, deps: SystemdDeps): Promise<UninstallResult> {
  const units = [readUnit(unitDir, TIMER_UNIT), readUnit(unitDir, SERVICE_UNIT)];
  const ours = units.filter((u) => u.ours);
  const result: UninstallResult = {
    unitDir,
    removed: [],
    kept: units.filter((u) => u.text !== undefined && !u.ours).map((u) => u.path),
    ran: [],
    toRun: [],
  };
  const timerIsOurs = ours.some((u) => u.name === TIMER_UNIT);
  // A running backup is left to finish: only the timer is stopped, never the service.
  if (deps.systemdRunning && timerIsOurs) await run(deps, result, systemctlArgv.disableNow(TIMER_UNIT));
  if (timerIsOurs && removeWantsLink(unitDir, TIMER_UNIT))
    result.removed.push(join(unitDir, "timers.target.wants", TIMER_UNIT));
  for (const u of ours) {
    removeUnit(u.path);
    result.removed.push(u.path);
  }
  if (ours.length === 0) return result;
  if (deps.systemdRunning) await run(deps, result, systemctlArgv.daemonReload());
  else
    result.toRun = [...(timerIsOurs ? [systemctlArgv.stop(TIMER_UNIT)] : []), systemctlArgv.daemonReload()];
  return result;
}

async function run(deps: SystemdDeps, result: UninstallResult, argv: string[]): Promise<void> {
  await systemctl(deps.runner, argv);
  result.ran.push(argv);
}

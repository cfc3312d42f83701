import { existsSync } from "node:fs";
import { binaryProblem } from "./binary.ts";
import { readUnit, type UnitOnDisk } from "./files.ts";
import {
  FRESHNESS_SERVICE,
  FRESHNESS_TIMER,
  renderFreshnessService,
  renderFreshnessTimer,
} from "./freshness-units.ts";
import type { SystemdDeps } from "./install.ts";
import { installedParams } from "./parse.ts";
import { showUnit, type UnitRuntime } from "./systemctl.ts";
import { renderServiceUnit, renderTimerUnit, SERVICE_UNIT, TIMER_UNIT } from "./units.ts";

/**
 * current: what this kopi-docka would write with the installed binary, config and schedule;
 * outdated: written by kopi-docka but differs (edited, or an older version: run `systemd install`);
 * foreign: not written by kopi-docka.
 */
export type FileStatus = "missing" | "current" | "outdated" | "foreign";

export interface SystemdStatus {
  unitDir: string;
  files: { name: string; path: string; status: FileStatus }[];
  binary: string | null;
  /** Why the installed ExecStart binary cannot run (moved, deleted, not executable); null when fine. */
  binaryProblem: string | null;
  configPath: string | null;
  configExists: boolean | null;
  onCalendar: string | null;
  randomizedDelaySec: number | null;
  systemdRunning: boolean;
  /** `systemctl show` of the timer and the service; null when systemd is not running here. */
  timer: UnitRuntime | null;
  service: UnitRuntime | null;
  /** The freshness check's service: its last result says whether a unit was overdue. */
  freshness: UnitRuntime | null;
}

function expected(disk: UnitOnDisk, params: ReturnType<typeof installedParams>): string | undefined {
  try {
    if (disk.name === SERVICE_UNIT && params.binary)
      return renderServiceUnit({
        binary: params.binary,
        configPath: params.configPath,
        timeoutStartSec: params.timeoutStartSec,
      });
    if (disk.name === TIMER_UNIT && params.onCalendar)
      return renderTimerUnit({
        onCalendar: params.onCalendar,
        randomizedDelaySec: params.randomizedDelaySec,
      });
    if (disk.name === FRESHNESS_SERVICE && params.binary)
      return renderFreshnessService({ binary: params.binary, configPath: params.configPath });
    if (disk.name === FRESHNESS_TIMER) return renderFreshnessTimer();
  } catch {
    // An unparsable ExecStart/OnCalendar: the file cannot be current.
  }
  return undefined;
}

function fileStatus(disk: UnitOnDisk, params: ReturnType<typeof installedParams>): FileStatus {
  if (disk.text === undefined) return "missing";
  if (!disk.ours) return "foreign";
  return expected(disk, params) === disk.text ? "current" : "outdated";
}

/** Read-only: the installed files, what they run, and (where systemd runs) the timer's state. */
export async function systemdStatus(unitDir: string, deps: SystemdDeps): Promise<SystemdStatus> {
  const service = readUnit(unitDir, SERVICE_UNIT);
  const timer = readUnit(unitDir, TIMER_UNIT);
  const params = installedParams(
    service.ours ? service.text : undefined,
    timer.ours ? timer.text : undefined,
  );
  return {
    unitDir,
    files: [service, timer, readUnit(unitDir, FRESHNESS_SERVICE), readUnit(unitDir, FRESHNESS_TIMER)].map(
      (u) => ({ name: u.name, path: u.path, status: fileStatus(u, params) }),
    ),
    binary: params.binary ?? null,
    binaryProblem: params.binary ? (binaryProblem(params.binary) ?? null) : null,
    configPath: params.configPath ?? null,
    configExists: params.configPath ? existsSync(params.configPath) : null,
    onCalendar: params.onCalendar ?? null,
    randomizedDelaySec: params.randomizedDelaySec ?? null,
    systemdRunning: deps.systemdRunning,
    timer: deps.systemdRunning ? await showUnit(deps.runner, TIMER_UNIT) : null,
    service: deps.systemdRunning ? await showUnit(deps.runner, SERVICE_UNIT) : null,
    freshness: deps.systemdRunning ? await showUnit(deps.runner, FRESHNESS_SERVICE) : null,
  };
}

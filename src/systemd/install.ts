import { existsSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../core/errors.ts";
import type { Runner } from "../core/process/runner.ts";
import { lineDiff } from "./diff.ts";
import { readUnit, type UnitOnDisk, writeUnit } from "./files.ts";
import {
  FRESHNESS_SERVICE,
  FRESHNESS_TIMER,
  renderFreshnessService,
  renderFreshnessTimer,
} from "./freshness-units.ts";
import { installedParams } from "./parse.ts";
import { checkOnCalendar } from "./schedule.ts";
import { type ConfigSchedule, calendarOrigin, resolveSchedule, type ValueFrom } from "./settings.ts";
import { systemctl, systemctlArgv } from "./systemctl.ts";
import { renderServiceUnit, renderTimerUnit, SERVICE_UNIT, TIMER_UNIT } from "./units.ts";

export interface SystemdDeps {
  runner: Runner;
  warn: (message: string) => void;
  /** Whether systemd is PID 1 here; when not, systemctl is never called and its commands are returned. */
  systemdRunning: boolean;
  now?: Date;
}

export interface InstallOptions {
  /** Absolute, existing directory (see requireUnitDir). */
  unitDir: string;
  /** Absolute, executable (see resolveBinary). */
  binary: string;
  configPath?: string;
  /** From --on-calendar / --randomized-delay-sec; each unset one comes from `schedule` (settings.ts). */
  onCalendar?: string;
  randomizedDelaySec?: number;
  /** The config's [schedule] values (beaten by the flags, beating the installed timer). */
  schedule?: ConfigSchedule;
  /** From `serviceStartTimeout(config)`; unset: no start timeout. */
  timeoutStartSec?: number;
  force: boolean;
  enable: boolean;
  dryRun: boolean;
}

export type FileAction = "create" | "replace" | "unchanged" | "conflict";

export interface InstallResult {
  applied: boolean;
  unitDir: string;
  binary: string;
  configPath: string | null;
  onCalendar: string;
  scheduleFrom: ValueFrom;
  randomizedDelaySec: number;
  randomizedDelayFrom: ValueFrom;
  files: { name: string; path: string; action: FileAction; backup?: string; content: string }[];
  /** systemctl commands run here, and the ones the user still has to run (systemd not running). */
  ran: string[][];
  toRun: string[][];
}

/** Units the Python Kopi-Docka wrote; its timer would start our service a second time each night. */
const LEGACY_UNITS = ["kopi-docka.timer", "kopi-docka.service"];

function actionFor(disk: UnitOnDisk, content: string, force: boolean): FileAction {
  if (disk.text === undefined) return "create";
  if (disk.text === content) return "unchanged";
  return force ? "replace" : "conflict";
}

/**
 * Writes the backup service and timer and the freshness check's pair (`freshness-units.ts`), then
 * reloads systemd and enables both timers. Nothing is written while any file would need --force: the
 * diff goes into the error instead.
 */
export async function installUnits(o: InstallOptions, deps: SystemdDeps): Promise<InstallResult> {
  const service = readUnit(o.unitDir, SERVICE_UNIT);
  const timer = readUnit(o.unitDir, TIMER_UNIT);
  const installed = timer.ours ? installedParams(undefined, timer.text) : {};
  const configured = o.schedule ?? {};
  const schedule = resolveSchedule(o, configured, installed);
  const { onCalendar, randomizedDelaySec } = schedule;
  const origin = calendarOrigin(schedule.onCalendarFrom, configured);
  await checkOnCalendar(deps.runner, onCalendar, deps.warn, origin);
  const wanted: [UnitOnDisk, string][] = [
    [
      service,
      renderServiceUnit({ binary: o.binary, configPath: o.configPath, timeoutStartSec: o.timeoutStartSec }),
    ],
    [timer, renderTimerUnit({ onCalendar, randomizedDelaySec })],
    [
      readUnit(o.unitDir, FRESHNESS_SERVICE),
      renderFreshnessService({ binary: o.binary, configPath: o.configPath }),
    ],
    [readUnit(o.unitDir, FRESHNESS_TIMER), renderFreshnessTimer()],
  ];
  const files: InstallResult["files"] = wanted.map(([disk, content]) => ({
    name: disk.name,
    path: disk.path,
    action: actionFor(disk, content, o.force),
    content,
  }));
  const result: InstallResult = {
    applied: !o.dryRun,
    unitDir: o.unitDir,
    binary: o.binary,
    configPath: o.configPath ?? null,
    onCalendar,
    scheduleFrom: schedule.onCalendarFrom,
    randomizedDelaySec,
    randomizedDelayFrom: schedule.randomizedDelayFrom,
    files,
    ran: [],
    toRun: [],
  };
  for (const legacy of LEGACY_UNITS.filter((n) => existsSync(join(o.unitDir, n)))) {
    deps.warn(
      `${join(o.unitDir, legacy)} (from the Python Kopi-Docka) is still there; disable and remove it: systemctl disable --now ${legacy}`,
    );
  }
  if (o.dryRun) return result;
  const conflicts = wanted.filter((_, i) => files[i]?.action === "conflict");
  if (conflicts.length > 0) throw conflictError(conflicts);
  const now = deps.now ?? new Date();
  for (const f of files.filter((x) => x.action === "create" || x.action === "replace")) {
    f.backup = writeUnit(f.path, f.content, f.action === "replace", now);
  }
  const changed = files.some((f) => f.action !== "unchanged");
  const commands = [
    ...(changed || !deps.systemdRunning ? [systemctlArgv.daemonReload()] : []),
    ...(o.enable ? [systemctlArgv.enableNow(TIMER_UNIT, FRESHNESS_TIMER)] : []),
  ];
  if (!deps.systemdRunning) result.toRun = commands;
  else {
    for (const argv of commands) {
      await systemctl(deps.runner, argv);
      result.ran.push(argv);
    }
  }
  return result;
}

function conflictError(conflicts: [UnitOnDisk, string][]): UsageError {
  const parts = conflicts.map(([disk, content]) => {
    const whose = disk.ours
      ? "differs from what would be written"
      : "exists and was not written by kopi-docka";
    return [`${disk.path} ${whose}:`, ...lineDiff(disk.text ?? "", content).map((l) => `    ${l}`)].join(
      "\n",
    );
  });
  return new UsageError(
    `refusing to overwrite ${conflicts.length === 1 ? "a unit file" : "unit files"}\n${parts.join("\n")}`,
    `pass --force to replace ${conflicts.length === 1 ? "it (the old file is" : "them (each old file is"} kept as <file>.bak-<time>)`,
  );
}

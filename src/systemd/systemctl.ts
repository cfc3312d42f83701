import { existsSync } from "node:fs";
import type { Runner } from "../core/process/runner.ts";
import { parseSystemctlShow, showValue } from "./parse.ts";

/** systemd's own test for "booted with systemd" (sd_booted): this directory exists. */
export const SYSTEMD_RUN_DIR = "/run/systemd/system";

export function systemdIsRunning(dir = SYSTEMD_RUN_DIR): boolean {
  return existsSync(dir);
}

/** Each systemctl call kopi-docka makes, as argv; printed verbatim when systemd is not running here. */
export const systemctlArgv = {
  daemonReload: () => ["systemctl", "daemon-reload"],
  enableNow: (...units: string[]) => ["systemctl", "enable", "--now", ...units],
  disableNow: (...units: string[]) => ["systemctl", "disable", "--now", ...units],
  stop: (...units: string[]) => ["systemctl", "stop", ...units],
};

/** A systemctl call never waits on a job this long (a stuck start must not hang install). */
const SYSTEMCTL_TIMEOUT_MS = 60_000;

export async function systemctl(runner: Runner, argv: string[]): Promise<void> {
  await runner.run(argv, { timeoutMs: SYSTEMCTL_TIMEOUT_MS });
}

export interface UnitRuntime {
  unit: string;
  loadState: string | null;
  activeState: string | null;
  subState: string | null;
  unitFileState: string | null;
  /** "success", "exit-code", "signal", "timeout", "oom-kill", … of the last run. */
  result: string | null;
  /** Timer: when it last fired / fires next. */
  lastTrigger: string | null;
  nextElapse: string | null;
  /** Service: exit status and times of the last run. */
  lastExitStatus: string | null;
  lastStart: string | null;
  lastExit: string | null;
}

const PROPERTIES = [
  "LoadState",
  "ActiveState",
  "SubState",
  "UnitFileState",
  "Result",
  "LastTriggerUSec",
  "NextElapseUSecRealtime",
  "ExecMainStatus",
  "ExecMainStartTimestamp",
  "ExecMainExitTimestamp",
];

/** `systemctl show` of one unit, parsed. An unknown property is simply absent from the output. */
export async function showUnit(runner: Runner, unit: string): Promise<UnitRuntime> {
  const argv = ["systemctl", "show", ...PROPERTIES.flatMap((p) => ["-p", p]), unit];
  const { stdout } = await runner.run(argv, { timeoutMs: SYSTEMCTL_TIMEOUT_MS });
  return toRuntime(unit, parseSystemctlShow(stdout)[0] ?? {});
}

export function toRuntime(unit: string, props: Record<string, string>): UnitRuntime {
  const isTimer = unit.endsWith(".timer");
  return {
    unit,
    loadState: showValue(props, "LoadState"),
    activeState: showValue(props, "ActiveState"),
    subState: showValue(props, "SubState"),
    unitFileState: showValue(props, "UnitFileState"),
    result: showValue(props, "Result"),
    lastTrigger: isTimer ? showValue(props, "LastTriggerUSec") : null,
    nextElapse: isTimer ? showValue(props, "NextElapseUSecRealtime") : null,
    lastExitStatus: isTimer ? null : (props.ExecMainStatus ?? null),
    lastStart: isTimer ? null : showValue(props, "ExecMainStartTimestamp"),
    lastExit: isTimer ? null : showValue(props, "ExecMainExitTimestamp"),
  };
}

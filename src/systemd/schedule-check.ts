import { DEFAULT_CONFIG_PATH } from "../config/load.ts";
import type { Check } from "../core/doctor.ts";
import type { SystemdDeps } from "./install.ts";
import { type SystemdStatus, systemdStatus } from "./status.ts";
import { SERVICE_UNIT, TIMER_UNIT } from "./units.ts";

/** The config doctor checked: the file it read (undefined: the embedded defaults) and where it looked. */
export interface CheckedConfig {
  file: string | undefined;
  expected: string;
}

/** doctor's `schedule` lines, read-only: the installed units and, where systemd runs, their state. */
export async function scheduleChecks(
  unitDir: string,
  deps: SystemdDeps,
  checked: CheckedConfig | undefined,
): Promise<Check[]> {
  return scheduleVerdict(await systemdStatus(unitDir, deps), checked);
}

/**
 * A host is only as backed up as its timer: a disabled or stopped one, or a last run that failed, is a
 * fail; none at all a warning (cron may run backups; an overdue unit fails in the freshness lines). Where systemd is not PID 1 (a container, another init) nothing here can tell whether
 * another scheduler runs backups: a warning, and the freshness lines are the judge.
 */
export function scheduleVerdict(s: SystemdStatus, checked: CheckedConfig | undefined): Check[] {
  const install = `kopi-docka systemd install${
    checked?.file && checked.file !== DEFAULT_CONFIG_PATH ? ` --config ${checked.file}` : ""
  }`;
  const checks = timerChecks(s, install);
  if (s.binaryProblem)
    checks.push({
      id: "schedule",
      status: "fail",
      detail: `the backup service runs ${s.binary}: ${s.binaryProblem}`,
      hint: `put kopi-docka back there, or run \`${install} --force\` from the installed binary`,
    });
  if (!s.binary) return checks;
  if (s.configPath && !s.configExists)
    checks.push({
      id: "schedule",
      status: "fail",
      detail: `the backup service reads ${s.configPath}, which does not exist`,
      hint: `run \`kopi-docka setup\`, or \`${install} --force\` for the config in use`,
    });
  const serviceReads = s.configPath ?? DEFAULT_CONFIG_PATH;
  if (checked && serviceReads !== checked.expected)
    checks.push({
      id: "schedule",
      status: "warn",
      detail: `the backup service reads ${serviceReads}; doctor checked ${
        checked.file ?? `the embedded defaults (${checked.expected} does not exist)`
      }`,
      hint: `kopi-docka doctor --config ${serviceReads}`,
    });
  return checks;
}

function timerChecks(s: SystemdStatus, install: string): Check[] {
  const file = (name: string) => s.files.find((f) => f.name === name);
  const timerFile = file(TIMER_UNIT);
  const installed = timerFile !== undefined && timerFile.status !== "missing";
  if (!s.systemdRunning)
    return [
      {
        id: "schedule",
        status: "warn",
        detail: installed
          ? `${timerFile.path} is installed, but systemd is not running here: it never fires`
          : "systemd is not running here and no timer is installed: nothing here starts backups",
        hint: "start `kopi-docka backup` from this host's own scheduler; the freshness lines show whether it runs",
      },
    ];
  const fail = (detail: string, hint: string): Check => ({ id: "schedule", status: "fail", detail, hint });
  const t = s.timer;
  // No timer at all may be a choice (cron, another scheduler): the freshness lines judge whether
  // backups run. One installed but disabled, stopped or failing is broken: a fail.
  if (!installed || !t || t.loadState === "not-found")
    return [
      {
        id: "schedule",
        status: "warn",
        detail: `no backup timer (${timerFile?.path ?? TIMER_UNIT}): unless another scheduler runs \`kopi-docka backup\`, nothing starts backups`,
        hint: `${install}; the freshness lines show whether backups run`,
      },
    ];
  if (file(SERVICE_UNIT)?.status === "missing")
    return [fail(`${SERVICE_UNIT} is missing: the timer has nothing to start`, install)];
  const checks: Check[] = [];
  if (t.unitFileState !== "enabled")
    checks.push(
      fail(
        `${TIMER_UNIT} is ${t.unitFileState ?? "not enabled"} (${t.activeState ?? "?"}): it does not start at boot`,
        `systemctl enable --now ${TIMER_UNIT}`,
      ),
    );
  else if (t.activeState !== "active")
    checks.push(
      fail(
        `${TIMER_UNIT} is ${t.activeState ?? "not active"}: no run is scheduled`,
        `systemctl start ${TIMER_UNIT}`,
      ),
    );
  const v = s.service;
  if (v?.result && v.result !== "success") {
    const status = v.lastExitStatus ? `, exit status ${v.lastExitStatus}` : "";
    checks.push(
      fail(
        `the backup service's last run failed (${v.result}${status}${v.lastExit ? `, ${v.lastExit}` : ""})`,
        `journalctl -u ${SERVICE_UNIT} -n 200 (or kopi-docka systemd logs); once fixed: kopi-docka systemd run-now --follow`,
      ),
    );
  }
  if (checks.length > 0) return checks;
  // systemd forgets a successful oneshot's last run once it is inactive: the freshness lines say more.
  const last = v?.lastExit ? `; last run ok, ${v.lastExit}` : "";
  return [
    { id: "schedule", status: "ok", detail: `${TIMER_UNIT} enabled, next run ${t.nextElapse ?? "?"}${last}` },
  ];
}

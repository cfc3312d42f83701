/**
 * systemd units for scheduled backups, rendered as text (`install.ts` writes them).
 * The service is built so that no container stays stopped: KillMode=mixed sends the stop signal to
 * kopi-docka alone, which then ends its children in order and restarts containers; TimeoutStopSec
 * leaves room for that; ExecStopPost runs `recover` after every stop, even after SIGKILL or a crash.
 */
export interface ServiceUnitOptions {
  /** Absolute path of the kopi-docka binary. */
  binary: string;
  /** Config file passed with --config; omitted: the default lookup. */
  configPath?: string;
  /** Seconds systemd waits after SIGTERM before SIGKILL; must cover the restarts. Default 900. */
  timeoutStopSec?: number;
  description?: string;
}

export interface TimerUnitOptions {
  /** systemd OnCalendar expression, e.g. "*-*-* 02:00:00". */
  onCalendar: string;
  randomizedDelaySec?: number;
  persistent?: boolean;
  description?: string;
}

/** File names of the two units; the timer starts the service of the same name. */
export const SERVICE_UNIT = "kopi-docka-backup.service";
export const TIMER_UNIT = "kopi-docka-backup.timer";
export const DEFAULT_ON_CALENDAR = "*-*-* 02:00:00";
export const DEFAULT_RANDOMIZED_DELAY_SEC = 0;

/**
 * First line of every unit kopi-docka writes. `systemd uninstall` removes a file only when it starts
 * with this line, so a hand-written unit of the same name is never deleted.
 */
export const UNIT_MARKER =
  "# Managed by kopi-docka: `kopi-docka systemd install` writes this file, `uninstall` removes it.";

/** Minimum stop timeout: children get 10 s, then each container restart may take minutes. */
export const MIN_TIMEOUT_STOP_SEC = 120;
export const DEFAULT_TIMEOUT_STOP_SEC = 900;

/** Quotes one argument for an Exec= line when it needs it (systemd's own quoting rules). */
function execArg(arg: string): string {
  const escaped = arg.replace(/%/g, "%%");
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return escaped;
  return `"${escaped.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

function exec(binary: string, args: string[]): string {
  return [binary, ...args].map(execArg).join(" ");
}

export function renderServiceUnit(o: ServiceUnitOptions): string {
  if (!o.binary.startsWith("/")) throw new Error("the binary path must be absolute");
  const timeout = Math.max(o.timeoutStopSec ?? DEFAULT_TIMEOUT_STOP_SEC, MIN_TIMEOUT_STOP_SEC);
  const config = o.configPath ? ["--config", o.configPath] : [];
  return `${UNIT_MARKER}
[Unit]
Description=${o.description ?? "kopi-docka cold backup of Docker workloads"}
Wants=network-online.target
After=network-online.target docker.service
Requires=docker.service

[Service]
Type=oneshot
ExecStart=${exec(o.binary, ["backup", ...config])}
# After every stop, clean or not (even SIGKILL): start what a dead run left stopped.
ExecStopPost=${exec(o.binary, ["recover", ...config])}
# SIGTERM to kopi-docka only; it ends kopia/docker children itself, in order, then restarts containers.
KillMode=mixed
KillSignal=SIGTERM
TimeoutStopSec=${timeout}
TimeoutStartSec=infinity
Nice=10
IOSchedulingClass=best-effort
IOSchedulingPriority=7
`;
}

export function renderTimerUnit(o: TimerUnitOptions): string {
  if (!o.onCalendar.trim() || /[\n\r]/.test(o.onCalendar)) throw new Error("invalid OnCalendar value");
  return `${UNIT_MARKER}
[Unit]
Description=${o.description ?? "kopi-docka scheduled backup"}

[Timer]
OnCalendar=${o.onCalendar}
RandomizedDelaySec=${o.randomizedDelaySec ?? DEFAULT_RANDOMIZED_DELAY_SEC}
Persistent=${o.persistent === false ? "false" : "true"}

[Install]
WantedBy=timers.target
`;
}

import type { Config } from "../config/schema.ts";
import { CONTROL_CHARS } from "../config/schema-fields.ts";
import { UsageError } from "../core/errors.ts";

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
  /** Seconds the whole run may take (`serviceStartTimeout`); unset: no limit. */
  timeoutStartSec?: number;
  description?: string;
}

/**
 * The least a run may take before systemd stops it: a backstop, not a bound. A run hung where no
 * `max_cold_seconds` reaches (a repository that stops answering during a warm pass or a live read)
 * would otherwise hold the oneshot service, and every later night's timer start would be swallowed.
 * Just under a day, so the next nightly run starts; a stopped run's containers start again (SIGTERM,
 * then `ExecStopPost=recover`), and kopia resumes from its checkpoints the next night.
 */
export const RUN_BACKSTOP_SECONDS = 23 * 3600;

/**
 * `TimeoutStartSec`: the backstop, or more where the cold-window bound asks for it (ten units each at
 * its bound, plus its stop and start timeouts, and an hour for everything outside the windows).
 */
export function serviceStartTimeout(config: Config): number {
  const bounds = [
    config.backup.max_cold_seconds,
    ...Object.values(config.units).map((u) => u.max_cold_seconds),
  ].filter((x): x is number => x !== undefined);
  if (bounds.length === 0) return RUN_BACKSTOP_SECONDS;
  const perUnit = Math.max(...bounds) + config.backup.stop_timeout + config.backup.start_timeout;
  return Math.max(10 * perUnit + 3600, RUN_BACKSTOP_SECONDS);
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

/**
 * One argument of an Exec= line, per systemd.service(5) "Command lines" and systemd.syntax(7):
 * `%` starts a specifier (`%%`), `$` an environment substitution (`$$`), and anything outside a plain
 * word set goes in double quotes with `\\` and `\"` escaped. A control character has no safe spelling
 * (a newline would end the line and start a directive of its own): refused.
 */
export function execArg(arg: string): string {
  if (CONTROL_CHARS.test(arg)) {
    throw new UsageError(`${JSON.stringify(arg)} holds a control character and cannot go into a unit file`);
  }
  const escaped = arg.replace(/%/g, "%%").replace(/\$/g, () => "$$");
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return escaped;
  return `"${escaped.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

export function exec(binary: string, args: string[]): string {
  return [binary, ...args].map(execArg).join(" ");
}

/**
 * Sandboxing that leaves what a backup needs: root reading every volume and bind source anywhere on
 * the host, the docker socket, kopia's repository (local or over the network), hooks that write dumps
 * wherever the admin keeps them, and /proc/<pid> of other runs (the lock's liveness test). Left out on
 * purpose: PrivateTmp (a bind source under /tmp would be read as an empty directory: data that looks
 * backed up but is not), ProtectHome (hooks write dumps under /home), ProtectProc/ProcSubset (the
 * lock's pid and boot id checks), PrivateNetwork/IPAddressDeny (remote repositories),
 * MemoryDenyWriteExecute (Bun's JIT), User= (reading every volume needs root).
 * `systemd-analyze security` scores this service 3.8 "OK" (9.6 "UNSAFE" without).
 */
export const HARDENING = `# Hardening (what a backup and its hooks do not need); see README "Nightly schedule".
UMask=0077
NoNewPrivileges=yes
ProtectSystem=full
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectHostname=yes
ProtectClock=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
SystemCallArchitectures=native
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
SystemCallFilter=~@clock @cpu-emulation @debug @module @mount @obsolete @raw-io @reboot @swap
CapabilityBoundingSet=~${[
  "CAP_SYS_BOOT CAP_SYS_MODULE CAP_SYS_TIME CAP_SYS_PACCT CAP_SYS_TTY_CONFIG CAP_SYS_RAWIO",
  "CAP_LINUX_IMMUTABLE CAP_BLOCK_SUSPEND CAP_LEASE CAP_WAKE_ALARM CAP_MAC_ADMIN CAP_MAC_OVERRIDE",
  "CAP_AUDIT_CONTROL CAP_AUDIT_READ CAP_AUDIT_WRITE CAP_BPF CAP_PERFMON CAP_NET_ADMIN CAP_NET_RAW",
  "CAP_NET_BIND_SERVICE CAP_NET_BROADCAST CAP_IPC_LOCK CAP_SYSLOG CAP_SYS_PTRACE",
].join(" ")}`;

export function renderServiceUnit(o: ServiceUnitOptions): string {
  if (!o.binary.startsWith("/")) throw new Error("the binary path must be absolute");
  const timeout = Math.max(o.timeoutStopSec ?? DEFAULT_TIMEOUT_STOP_SEC, MIN_TIMEOUT_STOP_SEC);
  const config = o.configPath ? ["--config", o.configPath] : [];
  return `${UNIT_MARKER}
[Unit]
Description=${o.description ?? "kopi-docka cold backup of Docker workloads"}
# Wants, not Requires: a Docker whose unit has another name (snap's) must not keep every backup from
# starting; the run itself checks that the daemon answers, and fails (alerting) when it does not.
Wants=network-online.target docker.service
After=network-online.target docker.service

[Service]
Type=oneshot
ExecStart=${exec(o.binary, ["backup", ...config])}
# After every stop, clean or not (even SIGKILL): start what a dead run left stopped.
ExecStopPost=${exec(o.binary, ["recover", ...config])}
# SIGTERM to kopi-docka only; it ends kopia/docker children itself, in order, then restarts containers.
KillMode=mixed
KillSignal=SIGTERM
TimeoutStopSec=${timeout}
TimeoutStartSec=${o.timeoutStartSec ?? "infinity"}
Nice=10
IOSchedulingClass=best-effort
IOSchedulingPriority=7
${HARDENING}
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

import { exec, HARDENING, UNIT_MARKER } from "./units.ts";

/**
 * The freshness check's own service and timer. A backup run reports its own failure, but nothing
 * reports the run that never happens: a timer that stopped firing, a service hung in a network
 * repository (no start timeout unless `max_cold_seconds` is set), a host whose clock jumped. This
 * timer runs `check-freshness` every hour, which alerts each unit whose last good backup is older
 * than its `max_age_hours` once per episode, and fails the service (seen in `systemctl --failed`)
 * while one is overdue, also where no alert target is set.
 */
export const FRESHNESS_SERVICE = "kopi-docka-freshness.service";
export const FRESHNESS_TIMER = "kopi-docka-freshness.timer";
export const FRESHNESS_ON_CALENDAR = "hourly";

export interface FreshnessServiceOptions {
  /** Absolute path of the kopi-docka binary (the backup service's). */
  binary: string;
  /** Config file passed with --config; omitted: the default lookup. */
  configPath?: string;
}

export function renderFreshnessService(o: FreshnessServiceOptions): string {
  if (!o.binary.startsWith("/")) throw new Error("the binary path must be absolute");
  const config = o.configPath ? ["--config", o.configPath] : [];
  return `${UNIT_MARKER}
[Unit]
Description=kopi-docka freshness check: alert units whose last good backup is too old
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart=${exec(o.binary, ["check-freshness", ...config])}
# Reads run records and sends alerts, each send bounded; it never stops a container.
TimeoutStartSec=600
Nice=10
${HARDENING}
`;
}

export function renderFreshnessTimer(): string {
  return `${UNIT_MARKER}
[Unit]
Description=kopi-docka hourly freshness check

[Timer]
OnCalendar=${FRESHNESS_ON_CALENDAR}
RandomizedDelaySec=300
Persistent=true

[Install]
WantedBy=timers.target
`;
}

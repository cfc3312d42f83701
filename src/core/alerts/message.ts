import type { NotifyLevel } from "../../config/schema.ts";
import { healNextStep } from "../backup/heal.ts";
import { downContainers, type PhaseError, type RunRecord, type UnitResult } from "../backup/result.ts";
import { formatBytes, formatDuration } from "../format.ts";
import type { Overdue } from "./freshness.ts";

export type Severity = "info" | "warning" | "failure" | "urgent";
export type AlertEvent = "run" | "preflight" | "missed" | "test";

/** What one send carries; every renderer below is pure. Never holds a secret. */
export interface Message {
  event: AlertEvent;
  severity: Severity;
  title: string;
  body: string;
  /** The summary as data (json:// targets post it as is). */
  data: Record<string, unknown>;
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, failure: 2, urgent: 3 };
const FLOOR: Record<NotifyLevel, number> = { always: 0, warning: 1, failure: 2 };

/** Whether a target configured at `level` gets a message of `severity` (test messages reach all). */
export const wants = (level: NotifyLevel, m: Message) =>
  m.event === "test" || RANK[m.severity] >= FLOOR[level];

/** The next thing a person should do about an error in this phase. */
export function nextStep(e: PhaseError | undefined): string {
  const item = e?.item ?? "<container>";
  if (e?.next) return e.next;
  switch (e?.phase) {
    case "pre_hook":
      return "fix the pre_backup hook (the unit was not stopped)";
    case "post_hook":
      return "check the post_backup hook (the data was saved)";
    case "stop":
      return `see why it did not stop: docker logs ${item}`;
    case "start":
    case "health":
      return `start it now: docker start ${item}; then docker logs ${item}`;
    case "stage":
    case "snapshot":
      return e.message.includes("max_cold_seconds")
        ? "check the repository (reachable, free space): kopi-docka doctor; if the data simply takes longer to read, raise max_cold_seconds ([backup], or [units.<unit>])"
        : "check the repository (reachable, free space): kopi-docka doctor";
    case "interrupted":
      return "run kopi-docka backup again";
    default:
      return "see kopi-docka history --failed";
  }
}

function unitLine(u: UnitResult): string[] {
  const facts = [
    u.bytes !== undefined ? formatBytes(u.bytes) : undefined,
    formatDuration(u.durationMs),
    u.coldWindowMs !== undefined ? `cold ${formatDuration(u.coldWindowMs)}` : undefined,
    u.frozenWindowMs !== undefined ? `frozen ${formatDuration(u.frozenWindowMs)}` : undefined,
  ].filter(Boolean);
  const head = `${u.status === "ok" ? "OK    " : u.status.toUpperCase().padEnd(6)} ${u.name}  ${facts.join(", ")}`;
  if (u.status === "ok" && u.restartFailed.length === 0) return [head];
  const e =
    u.restartFailed.length > 0
      ? u.errors.find((x) => x.phase === "start" || x.phase === "health")
      : u.errors[0];
  const reason = e ? `${e.phase}${e.item ? ` ${e.item}` : ""}: ${e.message}` : "no reason recorded";
  return [head, `       ${reason}`, `       next: ${nextStep(e)}`];
}

/**
 * A container no unit of the record covers that is down: one a killed run had left stopped that the
 * heal at the run's start could not start, or one the signal path could not start again. Lines of its
 * own, as loud as a unit's container that did not start again; its error says which.
 */
function healLines(record: RunRecord): string[] {
  return (record.restartFailed ?? []).flatMap((name) => {
    const e = record.errors.find((x) => x.phase === "start" && x.item === name);
    return [
      `DOWN   ${name}  (not running)`,
      `       ${e?.message ?? "could not start it"}`,
      `       next: ${healNextStep([name])}`,
    ];
  });
}

/** One message for a whole run: N of M units OK, then a line per unit. */
export function runMessage(record: RunRecord, exitCode: number): Message {
  const ok = record.units.filter((u) => u.status === "ok").length;
  const n = record.units.length;
  const down = downContainers(record);
  const severity: Severity =
    down.length > 0
      ? "urgent"
      : record.status !== "ok" || record.interrupted
        ? "failure"
        : record.errors.length > 0 ||
            record.warnings?.length ||
            record.units.some((u) => u.warnings?.length || u.notProtected?.length)
          ? "warning"
          : "info";
  const what =
    down.length > 0
      ? `URGENT: containers NOT running again: ${down.join(", ")}`
      : record.interrupted
        ? `backup interrupted by ${record.interrupted}: ${ok} of ${n} units OK`
        : record.status === "ok"
          ? `backup OK: ${ok} of ${n} units`
          : `backup FAILED: ${ok} of ${n} units OK`;
  const lines = [
    `host ${record.hostname}, run ${record.runId}, ${formatDuration(record.durationMs)}, exit ${exitCode}`,
    ...record.units.flatMap(unitLine),
    ...healLines(record),
    ...record.errors
      .filter((e) => e.phase !== "start")
      .flatMap((e) => [`warning: ${e.phase}: ${e.message}`, ...(e.next ? [`       next: ${e.next}`] : [])]),
    ...(record.warnings ?? []).map((w) => `warning: ${w}`),
    ...record.units.flatMap((u) => (u.warnings ?? []).map((w) => `warning: ${u.name}: ${w}`)),
    // Data no snapshot holds: never an OK without saying so (a volume on NFS, a third-party driver).
    ...record.units.flatMap((u) =>
      (u.notProtected ?? []).map((g) => `warning: ${u.name}: NOT backed up: ${g}`),
    ),
  ];
  return {
    event: "run",
    severity,
    title: `kopi-docka ${record.hostname}: ${what}`,
    body: lines.join("\n"),
    data: {
      hostname: record.hostname,
      runId: record.runId,
      status: record.status,
      exitCode,
      interrupted: record.interrupted ?? null,
      unitsOk: ok,
      restartFailed: record.restartFailed ?? [],
      warnings: record.warnings ?? [],
      maintenance: record.maintenance ?? [],
      units: record.units.map((u) => ({
        name: u.name,
        status: u.status,
        bytes: u.bytes ?? null,
        durationMs: u.durationMs,
        coldWindowMs: u.coldWindowMs ?? null,
        frozenWindowMs: u.frozenWindowMs ?? null,
        restartFailed: u.restartFailed,
        error: u.errors[0] ? { phase: u.errors[0].phase, message: u.errors[0].message } : null,
        next: u.status === "ok" ? null : nextStep(u.errors[0]),
      })),
    },
  };
}

export function missedMessage(hostname: string, overdue: readonly Overdue[]): Message {
  const lines = overdue.map((o) =>
    o.lastSuccess
      ? `${o.unit}: last good backup ${formatDuration(o.ageMs)} ago (limit ${o.maxAgeHours}h)`
      : `${o.unit}: never backed up successfully (limit ${o.maxAgeHours}h)`,
  );
  return {
    event: "missed",
    severity: "failure",
    title: `kopi-docka ${hostname}: backup MISSED for ${overdue.length} unit(s)`,
    body: [...lines, "next: kopi-docka history --failed; systemctl status kopi-docka-backup.timer"].join(
      "\n",
    ),
    data: { hostname, overdue: overdue.map((o) => ({ ...o })) },
  };
}

export function testMessage(hostname: string): Message {
  return {
    event: "test",
    severity: "info",
    title: `kopi-docka ${hostname}: test notification`,
    body: `This target works: kopi-docka on ${hostname} will send its backup reports here.`,
    data: { hostname },
  };
}

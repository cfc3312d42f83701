import { AppError, ProcessError } from "../errors.ts";
import type { ReplicaResult } from "../repository/replicas.ts";
import type { ClockSample } from "../restore-points/clock-jumps.ts";
import type { SnapshotType } from "../snapshot/tags.ts";

/** Where in a unit's backup something went wrong (a list, so reading a run record checks it too). */
export const PHASES = [
  "pre_hook",
  "stage",
  "policy",
  "stop",
  "snapshot",
  "start",
  "health",
  "post_hook",
  "maintenance",
  "retention",
  "interrupted",
] as const;
export type Phase = (typeof PHASES)[number];

export interface PhaseError {
  phase: Phase;
  message: string;
  /** The source label or container name concerned. */
  item?: string;
  /**
   * kopia's last stderr lines when a snapshot failed (its `message` keeps only the last one), secrets
   * redacted. Errors of other children (docker, hooks) carry their stderr tail in `message` already.
   */
  stderrTail?: string;
  /** What to do about it, where the phase's usual next step (`alerts/message.ts`) does not fit. */
  next?: string;
}

/** Lines of a child's stderr a run record keeps per error: the cause, not a whole log. */
export const STDERR_TAIL_LINES = 10;

/** The last `STDERR_TAIL_LINES` non-empty lines of `text`; undefined when there are none. */
export function lastLines(text: string | undefined): string | undefined {
  const lines = (text ?? "").split("\n").filter((l) => l.trim() !== "");
  return lines.length ? lines.slice(-STDERR_TAIL_LINES).join("\n") : undefined;
}

/**
 * The stderr tail of the child behind `e` (a `ProcessError`, or an error caused by one), already
 * redacted by `ProcessError`; `{}` when there is none, so it spreads into a `PhaseError`.
 */
export function stderrTailOf(e: unknown): { stderrTail?: string } {
  let cur: unknown = e;
  for (let depth = 0; cur instanceof Error && depth < 5; depth++) {
    if (cur instanceof ProcessError) {
      const tail = lastLines(cur.stderrTail);
      return tail ? { stderrTail: tail } : {};
    }
    cur = cur.cause;
  }
  return {};
}

export interface SourceResult {
  type: SnapshotType;
  label: string;
  status: "ok" | "failed" | "skipped";
  snapshotId?: string;
  bytes?: number;
  files?: number;
  durationMs: number;
  reason?: string;
  /** kopia's last stderr lines when it failed (secrets redacted). */
  stderrTail?: string;
  /** Saved, but worth a look (a dump far smaller than the last one); also in the unit's `warnings`. */
  warning?: string;
}

/** A source that was never read (or whose snapshot is not kept), and why. */
export function failedSource(s: { type: SnapshotType; label: string }, reason: string): SourceResult {
  return { type: s.type, label: s.label, status: "failed", durationMs: 0, reason };
}

export interface UnitResult {
  name: string;
  backupId: string;
  /** The `timestamp` tag of every snapshot of the unit. */
  timestamp: string;
  status: "ok" | "failed" | "skipped";
  sources: SourceResult[];
  /** Containers this run stopped, and those it could not get running again. */
  stopped: string[];
  restartFailed: string[];
  errors: PhaseError[];
  durationMs: number;
  /** Sum of the saved snapshots' sizes (kopia's `rootEntry.summ.size`, never a re-walk). */
  bytes?: number;
  /** Cold window: from the first `docker stop` issued until the last restarted container is ready. */
  coldWindowMs?: number;
  /**
   * Frozen window: from the moment every container is stopped until the first start is issued (the
   * part spent on the snapshots themselves, which a strategy shrinks).
   */
  frozenWindowMs?: number;
  /** Data the unit uses that this run could not read ("volume x: why"); never counted as saved. */
  notProtected?: string[];
  /** What went otherwise than the unit's mode asks (an `fs-snapshot` unit backed up cold, and why), and sources' warnings. */
  warnings?: string[];
}

/**
 * kopia maintenance a run ran, or meant to run, once every container ran again (`maintenance.ts`).
 * Failed, refused and interrupted ones are also run-level `maintenance` errors: the data is saved.
 */
export interface MaintenanceResult {
  kind: "quick" | "full";
  /**
   * refused: the check before full maintenance found the repository unfit for it (or could not
   * finish); skipped: a container was not running again, so the run ended without it.
   */
  status: "ok" | "failed" | "refused" | "interrupted" | "skipped";
  startedAt: string;
  /** The whole step: the check before full maintenance included. */
  durationMs: number;
  /** Of that, the check before full maintenance (`guardFullMaintenance`). */
  checkMs?: number;
  reason?: string;
}

/** One backup run, as stored in `<state_dir>/runs/<run_id>.json`. Never holds a secret. */
export interface RunRecord {
  runId: string;
  version: string;
  hostname: string;
  scope: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  status: "ok" | "partial" | "failed" | "restart_failed";
  units: UnitResult[];
  /**
   * Run-level problems that failed no unit (maintenance, policy); `start` ones are containers the heal
   * at the run's start could not start (`restartFailed`).
   */
  errors: PhaseError[];
  /**
   * Containers a killed earlier run had left stopped that the heal at this run's start could not start
   * (`backup/heal.ts`): no unit covers them, and they make the run `restart_failed`.
   */
  restartFailed?: string[];
  /** Run-level notes that failed nothing: containers the heal started, or left stopped on purpose. */
  warnings?: string[];
  /** The signal that cut the run short (SIGINT, SIGTERM, SIGHUP); absent when it ran to its end. */
  interrupted?: string;
  /** `[[replicas]]` synced after a successful run; a failed one makes the run "partial". */
  replicas?: ReplicaResult[];
  /** kopia maintenance after the units, in the order run (absent: none was due, or none ours). */
  maintenance?: MaintenanceResult[];
  /** Restore points `[retention]` removed at the end of the run (`<unit>@<backup_id>`). */
  expired?: string[];
  /**
   * The wall clock and the uptime when the run started (`restore-points/clock-jumps.ts`): two runs of
   * one boot tell a clock set ahead from time that passed. Absent off Linux and in older records.
   */
  clock?: ClockSample;
  /**
   * The run's number on this host (`run-sequence.ts`): counted up at each run's start under the lock,
   * it orders the runs across reboots without the wall clock (`restore-points/clock-back.ts`). Absent
   * in older records, and where the counter could not be written.
   */
  sequence?: number;
}

/** Total size of the snapshots that were saved (failed and skipped sources count nothing). */
export function savedBytes(sources: readonly SourceResult[]): number {
  return sources.reduce((n, s) => n + (s.status === "ok" ? (s.bytes ?? 0) : 0), 0);
}

export function runStatus(units: readonly UnitResult[]): RunRecord["status"] {
  if (units.some((u) => u.restartFailed.length > 0)) return "restart_failed";
  const failed = units.filter((u) => u.status !== "ok").length;
  return failed === 0 ? "ok" : failed === units.length ? "failed" : "partial";
}

/** Every container the run leaves down: a unit's that did not start again, and the heal's. */
export function downContainers(record: RunRecord): string[] {
  return [...(record.restartFailed ?? []), ...record.units.flatMap((u) => u.restartFailed)];
}

/**
 * A failed unit's errors on one line: errors of one phase with the same message (every source a
 * max_cold_seconds cancellation ended) said once, naming their items.
 */
export function errorsLine(errors: readonly PhaseError[]): string {
  const groups = new Map<string, { phase: string; items: string[]; message: string }>();
  for (const e of errors) {
    const key = `${e.phase}\0${e.message}`;
    const g = groups.get(key) ?? { phase: e.phase, items: [], message: e.message };
    if (e.item && !g.items.includes(e.item)) g.items.push(e.item);
    groups.set(key, g);
  }
  return [...groups.values()]
    .map((g) => `${g.phase}${g.items.length ? ` ${g.items.join(", ")}` : ""}: ${g.message}`)
    .join("; ");
}

/** "2 of 3 units OK", then one line per failed unit naming phase and cause, and per container down. */
export function summaryLines(record: RunRecord): string[] {
  const ok = record.units.filter((u) => u.status === "ok").length;
  const lines = [`${ok} of ${record.units.length} units OK`];
  for (const u of record.units.filter((x) => x.status !== "ok")) {
    const first = u.errors[0];
    lines.push(
      `  ${u.name}: ${u.status}${first ? ` (${first.phase}${first.item ? ` ${first.item}` : ""}: ${first.message})` : ""}`,
    );
  }
  for (const r of record.replicas ?? [])
    lines.push(`  replica ${r.name}: ${r.status === "ok" ? "copied" : `FAILED (${r.error})`}`);
  for (const e of record.errors.filter((x) => x.phase === "start")) lines.push(`  ${e.message}`);
  return lines;
}

/** The error the run ends with, if any: restart failures are the loudest. */
export function outcomeError(record: RunRecord): AppError | undefined {
  const summary = summaryLines(record).join("\n");
  switch (record.status) {
    case "ok":
      return undefined;
    case "restart_failed": {
      const names = downContainers(record).join(", ");
      const healed = record.restartFailed?.length
        ? " (`kopi-docka recover` retries those a killed run left)"
        : "";
      return new AppError("restart_failed", `CONTAINERS NOT RUNNING AGAIN: ${names}\n${summary}`, {
        hint: `start them now (\`docker start <name>\`)${healed} and check \`docker logs\`; \`kopi-docka history\` has details`,
      });
    }
    case "failed":
      return new AppError("backup_failed", `backup failed\n${summary}`, {
        hint: "see `kopi-docka history --failed`",
      });
    case "partial":
      return new AppError("partial_failure", `backup partly failed\n${summary}`, {
        hint: "see `kopi-docka history --failed`",
      });
  }
}

import type { Journal } from "../containers/journal.ts";
import type { ClockSample } from "../restore-points/clock-jumps.ts";
import type { BackupPlan } from "./plan-model.ts";
import { downContainers, type PhaseError, type RunRecord, type UnitResult } from "./result.ts";

/**
 * The run record of a backup a signal interrupted. The signal path writes it from a cleanup
 * compensation (the normal path may never get to write one before the process exits), so
 * `kopi-docka history` shows the run, its signal, and every unit as far as it got.
 */
export interface RunSoFar {
  runId: string;
  version: string;
  hostname: string;
  /** The requested scope until the plan exists. */
  scope: string;
  startedAt: Date;
  /** Units that finished, in order. */
  done: readonly UnitResult[];
  /** Undefined when the signal came before planning. */
  plan?: BackupPlan;
  /** Run-level problems seen before the signal (policy). */
  errors: readonly PhaseError[];
  /**
   * The containers each unit had stopped or was stopping (its restart-journal entries of this run):
   * a unit cut short with any was cold, whatever it had finished.
   */
  stopping?: ReadonlyMap<string, readonly string[]>;
  /** Of those, the ones the unit had started again before the signal (their journal entries cleared). */
  startedAgain?: ReadonlyMap<string, readonly string[]>;
  /** Both clocks at the run's start (`RunRecord.clock`). */
  clock?: ClockSample;
  /** The run's number (`RunRecord.sequence`). */
  sequence?: number;
}

/**
 * Pure: what the interrupted run did. A planned unit it did not finish is skipped, or failed when it
 * had stopped containers (its cold window had begun: the points it wrote are not complete).
 */
export function interruptedRunRecord(run: RunSoFar, signal: string, now: Date): RunRecord {
  const units = [...run.done];
  for (const u of run.plan?.units ?? []) {
    if (units.some((d) => d.name === u.name)) continue;
    const stopped = [...(run.stopping?.get(u.name) ?? [])];
    const again = run.startedAgain?.get(u.name) ?? [];
    const down = stopped.length > 0 && stopped.some((c) => !again.includes(c));
    const message = !stopped.length
      ? `interrupted by ${signal} before this unit finished`
      : `interrupted by ${signal} ${down ? "while its containers were stopped" : "after its containers were started again, while kopia saved"}: this run's snapshots of it are no complete point`;
    units.push({
      name: u.name,
      backupId: u.backupId,
      timestamp: now.toISOString(),
      status: stopped.length ? "failed" : "skipped",
      sources: [],
      stopped,
      restartFailed: [],
      errors: [{ phase: "interrupted", message }],
      durationMs: 0,
    });
  }
  const base: RunRecord = {
    runId: run.runId,
    version: run.version,
    hostname: run.plan?.hostname ?? run.hostname,
    scope: run.plan?.scope ?? run.scope,
    startedAt: run.startedAt.toISOString(),
    finishedAt: now.toISOString(),
    durationMs: Math.max(0, now.getTime() - run.startedAt.getTime()),
    status: "failed",
    units,
    errors: [...run.errors],
    ...(run.clock ? { clock: run.clock } : {}),
    ...(run.sequence ? { sequence: run.sequence } : {}),
  };
  return markInterrupted(base, signal);
}

/**
 * Marks a record as interrupted: the signal is kept, and the status is "failed" (a run cut short is
 * never "ok", even if every unit it got to finished) unless a container could not be restarted,
 * which stays the loudest status.
 */
export function markInterrupted(record: RunRecord, signal: string): RunRecord {
  return {
    ...record,
    status: downContainers(record).length > 0 ? "restart_failed" : "failed",
    interrupted: signal,
    errors: [
      ...record.errors.filter((e) => e.phase !== "interrupted"),
      { phase: "interrupted", message: `run interrupted by ${signal}` },
    ],
  };
}

/**
 * The journal, telling `soFar` of each container a unit is about to stop: an interrupted run's record
 * then names them (the entry is made durable right before each `docker stop`), and of each the unit
 * started again before the signal (its entry cleared then), so the record says when the signal came.
 */
export function noteStopping(journal: Journal, soFar: RunSoFar, signal: AbortSignal): Journal {
  const stopping = new Map<string, string[]>();
  const startedAgain = new Map<string, string[]>();
  const named = new Map<string, { unit: string; name: string }>();
  soFar.stopping = stopping;
  soFar.startedAgain = startedAgain;
  return {
    ...journal,
    record(entry) {
      journal.record(entry);
      stopping.set(entry.unit, [...(stopping.get(entry.unit) ?? []), entry.containerName]);
      named.set(entry.containerId, { unit: entry.unit, name: entry.containerName });
    },
    clear(runId, containerId) {
      journal.clear(runId, containerId);
      // After the signal, the signal path starts them: the record tells where the signal found them.
      const c = named.get(containerId);
      if (c && !signal.aborted) startedAgain.set(c.unit, [...(startedAgain.get(c.unit) ?? []), c.name]);
    },
  };
}

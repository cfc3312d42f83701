import { exitStatusAfterSignal } from "../../exit-codes.ts";
import type { RunRecord } from "../backup/result.ts";
import { readRunRecords, stampedAhead } from "../backup/run-records.ts";
import { errorMessage } from "../caught.ts";
import { AppError } from "../errors.ts";
import type { Kopia } from "../kopia/kopia.ts";
import { LockHeldError } from "../lock/acquire.ts";
import { type Lifecycle, PRIORITY } from "../safe-exit.ts";
import { type AlertDeps, createAlertPhase } from "./phase.ts";

/**
 * Errors that end a backup with nothing to report to a person far away (they are at the keyboard). A
 * `config` error met during the run (the password file gone) is reported: the config was read, its
 * targets are known, and the timer's run at 02:00 has nobody at the keyboard. A `usage` error is local
 * only at a terminal: the same `--unit` typo in a timer's override or a cron line fails every night,
 * and only an alert tells anyone before the freshness check does, days later.
 */
function localOnly(e: unknown, atTerminal: boolean): boolean {
  if (!(e instanceof AppError)) return false;
  if (e.code === "usage") return atTerminal;
  return e.code === "not_root" || e.code === "interrupted";
}

/**
 * What a run that ended without a record reports: typed errors but the local ones and a lock another
 * run holds (that run reports itself); anything else (a full disk under the run records, a lock file
 * that cannot be used) is a failure nobody would hear of otherwise.
 */
function reportable(e: unknown, atTerminal: boolean): AppError | undefined {
  if (e === undefined || e instanceof LockHeldError || localOnly(e, atTerminal)) return undefined;
  if (e instanceof AppError) return e;
  return new AppError("backup_failed", `the backup run ended with an unexpected error: ${errorMessage(e)}`, {
    hint: "see the journal: journalctl -u kopi-docka-backup.service; then kopi-docka history",
  });
}

export interface AroundRunDeps extends AlertDeps {
  lifecycle: Lifecycle;
  kopia: Pick<Kopia, "snapshotList">;
  /** The exit code an error maps to (src/cli.ts owns that table). */
  exitCodeFor: (e: unknown) => number;
  /** The error a finished run's record ends with, if any. */
  outcomeError: (r: RunRecord) => AppError | undefined;
  /**
   * A person reads stderr at a terminal (`atTerminal`, `ui/interactive.ts`; stdout may be piped): a
   * usage error is theirs to see, not to alert.
   */
  atTerminal: boolean;
}

/**
 * Runs `backup` between the heartbeat start and the alert phase. The start (with the alerts earlier
 * runs could not deliver, `retry.ts`) goes out once `backup` calls `namesChecked` (its `--unit` names
 * exist), so a mistyped name at a terminal sends and writes nothing: a local error (`localOnly`)
 * before the start skips the phase entirely. Without a terminal the typo is a failed run like any
 * other: start, failure alert, end. Once the start is out, the end always follows it: when `backup`
 * calls `backedUp` (its outcome final, only maintenance left), else with the phase. On the normal
 * path the phase runs after `backup` returned (every container runs again by then) with the exact
 * exit code; after a signal it runs as the last compensation, from the record the signal path wrote.
 */
export async function runWithAlerts(
  d: AroundRunDeps,
  backup: (namesChecked: () => void, backedUp: (record: RunRecord) => void) => Promise<RunRecord>,
): Promise<RunRecord> {
  const phase = createAlertPhase(d);
  let started: Promise<void> | undefined;
  // The start also sends what earlier runs could not deliver: alongside the backup, never holding it up.
  const start = () => {
    started ??= Promise.all([phase.start(), phase.retry()]).then(() => undefined);
    return started;
  };
  // The heartbeat's end when `backup` told its outcome before the maintenance at its end; the phase
  // then sends no second one, and waits for this one to be delivered.
  let ended: Promise<void> | undefined;
  const backedUp = (r: RunRecord) => {
    const outcome = d.outcomeError(r);
    const exitCode = outcome ? d.exitCodeFor(outcome) : 0;
    // As told: the maintenance that follows adds to the record while the start may still be under way.
    const told = structuredClone(r);
    ended = start().then(() => phase.end({ record: told, exitCode }));
  };
  const since = (d.now?.() ?? new Date()).toISOString();
  const onSignal = d.lifecycle.register("send alerts, write metrics", PRIORITY.alerts, async () => {
    await start();
    await ended;
    // This run's record: started since, and not one stamped ahead by a clock set wrong earlier.
    const at = d.now?.() ?? new Date();
    const record = readRunRecords(d.paths.runsDir, (m) => d.log.warn(m))
      .filter((r) => r.startedAt >= since && !stampedAhead(r, at))
      .pop();
    const signal = d.lifecycle.interruptedBy;
    await phase.afterRun({ record, exitCode: signal ? exitStatusAfterSignal(signal, d.lifecycle) : 1 });
  });
  let record: RunRecord | undefined;
  let error: unknown;
  try {
    record = await backup(() => void start(), backedUp);
  } catch (e) {
    error = e;
  }
  if (!d.lifecycle.interruptedBy) {
    onSignal.dismiss();
    if (!record && !started && localOnly(error, d.atTerminal)) throw error;
    await start();
    await ended;
    const outcome = record ? d.outcomeError(record) : error;
    const report = await phase.afterRun({
      record,
      error: record ? undefined : reportable(error, d.atTerminal),
      exitCode: outcome ? d.exitCodeFor(outcome) : 0,
      countSnapshots: record
        ? async () => (await d.kopia.snapshotList()).filter((m) => m.source.host === d.hostname).length
        : undefined,
    });
    if (report.failed > 0)
      d.log.warn(
        `${report.failed} notification(s) not delivered (the backup's result stands)` +
          (report.kept > 0
            ? `; ${report.kept} kept, to be sent again by the next backup or check-freshness`
            : ""),
      );
  }
  if (record) return record;
  throw error;
}

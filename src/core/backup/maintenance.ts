import { resolvePaths } from "../../config/resolve.ts";
import { errorMessage } from "../caught.ts";
import { AppError } from "../errors.ts";
import { formatDuration } from "../format.ts";
import { identity } from "../kopia/policy.ts";
import type { MaintenanceInfo } from "../kopia/policy-schema.ts";
import { FULL_NOT_RUN, guardFullMaintenance } from "../repository/maintenance.ts";
import type { BackupDeps } from "./deps.ts";
import type { MaintenanceResult, PhaseError, RunRecord, UnitResult } from "./result.ts";

/**
 * How long the read of maintenance's owner and schedule may take. It is optional work after every
 * unit, under the host lock: a repository that stopped answering mid-run (kopia retries a dead server
 * for minutes) would otherwise keep the next backup and any restore out for kopia's own limit.
 */
export const MAINTENANCE_INFO_TIMEOUT_MS = 60_000;

/** What the maintenance after the units did, for the run record: each kind run, and its warnings. */
export interface MaintenanceOutcome {
  runs: MaintenanceResult[];
  errors: PhaseError[];
}

/**
 * The run's last step, once its outcome is final (every unit, retention, replicas, the heal): the
 * heartbeat's end has gone out by then, so a full maintenance of hours holds up no monitor. Only after
 * a run that saved something, and never on the `server` backend. Adds what it ran (each with its own
 * duration) and its warnings to `record`; the run's status, end and duration stay those told, so a
 * replica's last copy (`finishedAt`) is not dated hours later by a full maintenance.
 */
export async function maintainAfterRun(
  d: BackupDeps,
  record: RunRecord,
  read: Promise<MaintenanceInfo> | undefined,
): Promise<void> {
  if (d.config.repository.backend === "server")
    return d.log.debug("maintenance is done by the repository server: not run from here");
  if (d.lifecycle.signal.aborted || !record.units.some((u) => u.sources.some((s) => s.status === "ok")))
    return;
  const done = await maintainAfterUnits(d, read, record.units);
  record.errors.push(...done.errors);
  if (done.runs.length) record.maintenance = done.runs;
}

/**
 * The record of a run a signal cut short during that maintenance: the outcome told stands (every unit,
 * retention and the replicas were done), and the maintenance cut short is a warning.
 */
export function maintenanceCut(record: RunRecord, signal: string): RunRecord {
  return {
    ...record,
    errors: [
      ...record.errors,
      {
        phase: "maintenance",
        message: `interrupted by ${signal} after the backup was complete; kopia runs it again when it is next due`,
      },
    ],
  };
}

/**
 * kopia's maintenance once every unit's containers run again, only when this identity owns it
 * (another owner's schedule is theirs) and kopia's schedule says it is due (`maintenance run` itself
 * ignores the schedule; kopia's own auto-maintenance keeps to it): quick (hourly by default), then
 * full (the garbage collection that gives back the space of expired points), which `maybeFull`
 * bounds; after a failed quick one, full waits for a run whose repository answers. Never throws: a
 * failure is a `maintenance` error of the run (an alert's warning), whose backups are fine.
 */
export async function maintainAfterUnits(
  d: BackupDeps,
  read: Promise<MaintenanceInfo> | undefined,
  units: readonly UnitResult[],
): Promise<MaintenanceOutcome> {
  const out: MaintenanceOutcome = { runs: [], errors: [] };
  const failed = (e: unknown) => {
    out.errors.push({ phase: "maintenance", message: errorMessage(e) });
    d.log.warn(`maintenance failed (backups are fine): ${errorMessage(e)}`);
  };
  // The early read may have met a repository outage the units outlasted: asked once more.
  const again = () => d.kopia.maintenanceInfo({ timeoutMs: MAINTENANCE_INFO_TIMEOUT_MS });
  let info: MaintenanceInfo;
  try {
    info = await (read ? read.catch(again) : again());
  } catch (e) {
    failed(e);
    return out;
  }
  const me = identity(d);
  if (info.owner !== me) {
    d.log.debug(`maintenance owned by ${info.owner ?? "nobody"}, not ${me}: skipped`);
    return out;
  }
  const quick = info.schedule?.nextQuickMaintenance;
  if (quick && Date.parse(quick) > now(d).getTime())
    d.log.debug(`quick maintenance not due until ${quick}: skipped`);
  else {
    const started = now(d);
    const t0 = performance.now();
    try {
      await d.kopia.maintenanceRun({ signal: d.lifecycle.signal });
      out.runs.push(result("quick", "ok", started, t0));
    } catch (e) {
      const status = d.lifecycle.signal.aborted ? "interrupted" : "failed";
      out.runs.push(result("quick", status, started, t0, { reason: errorMessage(e) }));
      if (status === "failed") failed(e);
      return out;
    }
  }
  if (!d.lifecycle.signal.aborted) await maybeFull(d, info, units, out);
  return out;
}

/**
 * Full maintenance, when `[backup] full_maintenance` allows it, kopia's full cycle is on and due, and
 * every container runs again (it may take hours; a container left down needs the run's alert now).
 * First the guard `repo maintenance --full` runs (`guardFullMaintenance`): when it refuses, nothing
 * is deleted and the run warns with its reason and next step. The lifecycle's signal ends either.
 */
async function maybeFull(
  d: BackupDeps,
  info: MaintenanceInfo,
  units: readonly UnitResult[],
  out: MaintenanceOutcome,
): Promise<void> {
  if (!d.config.backup.full_maintenance)
    return d.log.debug("full maintenance is left to `repo maintenance --full` ([backup] full_maintenance)");
  if (info.full?.enabled === false)
    return d.log.debug("kopia's full maintenance cycle is disabled on this repository: skipped");
  const next = info.schedule?.nextFullMaintenance;
  if (!next) return d.log.debug("kopia names no next full maintenance: skipped");
  if (!(Date.parse(next) <= now(d).getTime()))
    return d.log.debug(`full maintenance not due until ${next}: skipped`);
  const started = now(d);
  const t0 = performance.now();
  const down = containersDown(d, units);
  if (down) {
    d.log.warn(`full maintenance is due but not run: ${down}`);
    out.runs.push(result("full", "skipped", started, t0, { reason: down }));
    return;
  }
  const signal = d.lifecycle.signal;
  const interrupted = (checkMs?: number) =>
    result("full", "interrupted", started, t0, {
      reason: `interrupted by ${d.lifecycle.interruptedBy ?? "a signal"}`,
      ...(checkMs !== undefined ? { checkMs } : {}),
    });
  d.log.info("full maintenance is due: first every snapshot is checked (no file data read)");
  try {
    await guardFullMaintenance(d.kopia, resolvePaths(d.config).stateDir, { signal });
  } catch (e) {
    if (signal.aborted) return void out.runs.push(interrupted());
    // The guard's own refusals say that full maintenance was not run; anything else is told here.
    const said = errorMessage(e);
    const reason = said.includes(FULL_NOT_RUN) ? said : `full maintenance not run: ${said}`;
    const next =
      e instanceof AppError && e.hint
        ? e.hint
        : "`kopi-docka repo maintenance --full` runs the same check and says why; `kopi-docka doctor` checks the repository";
    out.runs.push(result("full", "refused", started, t0, { reason }));
    out.errors.push({ phase: "maintenance", message: reason, next });
    d.log.warn(`${reason} (backups are fine); next: ${next}`);
    return;
  }
  const checkMs = Math.round(performance.now() - t0);
  if (signal.aborted) return void out.runs.push(interrupted(checkMs));
  try {
    await d.kopia.maintenanceRun({ full: true, signal });
  } catch (e) {
    if (signal.aborted) return void out.runs.push(interrupted(checkMs));
    const reason = `full maintenance failed: ${errorMessage(e)}`;
    out.runs.push(result("full", "failed", started, t0, { reason, checkMs }));
    out.errors.push({
      phase: "maintenance",
      message: reason,
      next: "`kopi-docka repo maintenance --full` runs it again by hand; kopia keeps to its schedule otherwise (next due one interval after this start)",
    });
    d.log.warn(`${reason} (backups are fine)`);
    return;
  }
  const done = result("full", "ok", started, t0, { checkMs });
  out.runs.push(done);
  d.log.info(
    `full maintenance done in ${formatDuration(done.durationMs)} (check ${formatDuration(checkMs)})`,
  );
}

/**
 * Why not now, when a container kopi-docka stopped does not run again: one of this run's units could
 * not start it, or the restart journal still names one (the heal could not start it, a restore holds
 * it). Undefined when none is down.
 */
function containersDown(d: BackupDeps, units: readonly UnitResult[]): string | undefined {
  const names = new Set(units.flatMap((u) => u.restartFailed));
  try {
    if (d.journal.hasEntries()) for (const e of d.journal.entries()) names.add(e.containerName);
  } catch (e) {
    return `the restart journal cannot be read (${errorMessage(e)})`;
  }
  return names.size > 0
    ? `containers kopi-docka stopped are not running: ${[...names].join(", ")}`
    : undefined;
}

const now = (d: BackupDeps) => d.now?.() ?? new Date();

function result(
  kind: MaintenanceResult["kind"],
  status: MaintenanceResult["status"],
  started: Date,
  t0: number,
  more: { reason?: string; checkMs?: number } = {},
): MaintenanceResult {
  const durationMs = Math.round(performance.now() - t0);
  return { kind, status, startedAt: started.toISOString(), durationMs, ...more };
}

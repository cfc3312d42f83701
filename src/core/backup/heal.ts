import { errorMessage } from "../caught.ts";
import { healFailure, type RecoverResult } from "../containers/recover.ts";
import { AppError } from "../errors.ts";
import type { PhaseError, RunRecord } from "./result.ts";

/**
 * What the heal at the start of a backup (`recoverIfNeeded`: the containers a killed earlier run left
 * stopped) did, in the run record's terms. It must reach the record: a container it could not start
 * is not running when discovery looks, so no unit plans it, and the run would otherwise end "ok".
 */
export interface Heal {
  /** Containers it could not start: they make the run `restart_failed`. */
  restartFailed: string[];
  /** One run-level `start` error per container in `restartFailed`, with docker's reason. */
  errors: PhaseError[];
  /** The containers it started, and those it left stopped on purpose (`held`) with what to do. */
  warnings: string[];
}

export const NO_HEAL: Heal = { restartFailed: [], errors: [], warnings: [] };

/** The next step for a container the heal could not start (the journal keeps its entry). */
export const healNextStep = (names: readonly string[]) =>
  `fix the cause, then docker start ${names.join(" ")} (or kopi-docka recover, which retries every container the journal keeps)`;

/** Pure: the heal's result (undefined: there was nothing to heal) as record fields. */
export function healOf(r: RecoverResult | undefined): Heal {
  if (!r) return NO_HEAL;
  return {
    restartFailed: r.failed.map((f) => f.name),
    errors: r.failed.map((f) => ({
      phase: "start",
      item: f.name,
      message: healFailure(f),
    })),
    warnings: [
      ...r.started.map((name) => `started ${name}, which a killed run had left stopped`),
      // The reason a restore wrote says what to do (restore again, or the undo point, then start it).
      ...r.held.map((h) => `${h.name} stays stopped on purpose: ${h.reason}`),
    ],
  };
}

/**
 * The record with the heal in it: its `start` errors first among the run errors, its notes as
 * warnings, and `restart_failed` when a container is still down, which outranks every other status
 * (an interrupted run's too: a container down is what a person must act on first).
 */
export function withHeal(record: RunRecord, heal: Heal): RunRecord {
  const down = heal.restartFailed.length > 0;
  if (!down && heal.warnings.length === 0) return record;
  return {
    ...record,
    status: down ? "restart_failed" : record.status,
    errors: [...heal.errors, ...record.errors],
    ...(down ? { restartFailed: [...heal.restartFailed] } : {}),
    ...(heal.warnings.length ? { warnings: [...(record.warnings ?? []), ...heal.warnings] } : {}),
  };
}

/**
 * What a run that stopped short without a record (repository unreachable, a bad `--unit`) throws once
 * the heal has left containers down: `restart_failed` naming them, the original error after it. The
 * exit code and the pre-flight alert must not say that nothing was stopped while a container
 * kopi-docka stopped is down. Unchanged when the heal left nothing down.
 */
export function afterHealError(e: unknown, heal: Heal): unknown {
  if (heal.restartFailed.length === 0) return e;
  const names = heal.restartFailed.join(", ");
  const hint = e instanceof AppError && e.hint ? `; then: ${e.hint}` : "";
  return new AppError(
    "restart_failed",
    `CONTAINERS NOT RUNNING: ${names} (a killed run had left them stopped; docker start failed), and the backup did not run: ${errorMessage(e)}`,
    { hint: `${healNextStep(heal.restartFailed)}${hint}`, cause: e },
  );
}

/**
 * The containers the signal path could not start again (`restartsFailed`), as record fields: the
 * interrupted run's record is then `restart_failed` and names them, as a heal failure does.
 */
export function withSignalRestarts(heal: Heal, down: readonly { name: string; reason: string }[]): Heal {
  if (down.length === 0) return heal;
  return {
    restartFailed: [...heal.restartFailed, ...down.map((c) => c.name)],
    errors: [
      ...heal.errors,
      ...down.map((c) => ({
        phase: "start" as const,
        item: c.name,
        message: `could not start ${c.name} again after the signal: ${c.reason}`,
      })),
    ],
    warnings: heal.warnings,
  };
}

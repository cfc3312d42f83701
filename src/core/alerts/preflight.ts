import type { AppError } from "../errors.ts";
import type { Message, Severity } from "./message.ts";

/** Why a run that left no record did not back up, as the title says it. */
const NOT_STARTED: Partial<Record<AppError["code"], string>> = {
  repository_auth: "wrong repository password",
  config: "configuration problem",
  locked: "the lock file cannot be used",
  usage: "the command line is wrong",
};

/** The first line and title of each kind of run that left no record. */
function headline(hostname: string, error: AppError): { first: string; title: string; severity: Severity } {
  switch (error.code) {
    // An unexpected error: the run may have stopped and started containers.
    case "backup_failed":
      return {
        first: `host ${hostname}: the backup run failed and left no run record.`,
        title: `kopi-docka ${hostname}: backup FAILED (unexpected error)`,
        severity: "failure",
      };
    // The heal at the run's start: containers a killed run stopped could not be started (or docker
    // could not even be asked about them), so some may be down now.
    case "restart_failed":
      return {
        first: `host ${hostname}: no backup was made, and containers a killed earlier run had stopped may still be down.`,
        title: `kopi-docka ${hostname}: URGENT: containers a killed run stopped NOT started again; backup NOT run`,
        severity: "urgent",
      };
    default:
      return {
        first: `host ${hostname}: no backup was made and no container was stopped.`,
        title: `kopi-docka ${hostname}: backup NOT started (${NOT_STARTED[error.code] ?? "repository unreachable"})`,
        severity: "failure",
      };
  }
}

/**
 * The run ended without a record: before any container was stopped (repository unreachable, wrong
 * password, lock file unusable, a `--unit` no unit has in a run with nobody at the terminal); at the
 * heal of what a killed run left stopped (`restart_failed`: urgent, containers may be down); or with an
 * unexpected error (`backup_failed`), whose run may have stopped and started containers; `kopi-docka
 * recover` restarts any a dead run left stopped.
 */
export function preflightMessage(hostname: string, error: AppError, exitCode: number): Message {
  const { first, title, severity } = headline(hostname, error);
  const lines = [first, error.message, ...(error.hint ? [`next: ${error.hint}`] : [])];
  return {
    event: "preflight",
    severity,
    title,
    body: lines.join("\n"),
    data: { hostname, code: error.code, exitCode, message: error.message, hint: error.hint ?? null },
  };
}

import { AppError, type ErrorCode, InterruptedError } from "./core/errors.ts";
import { exitStatusForSignal, type Lifecycle, PRIORITY, type Signal } from "./core/safe-exit.ts";

// The one error → exit code table. Its own module (not cli.ts) so `backup` can tell the alert phase the
// exact code without importing the entry point (a cycle through the command map).

/**
 * Exit codes, documented in README. Monitoring relies on them: never renumber, only add.
 * 130/143/129 are the signal statuses (SIGINT/SIGTERM/SIGHUP).
 */
export const EXIT_CODES: Record<ErrorCode, number> = {
  process_failed: 1,
  backup_failed: 1,
  restore_failed: 1,
  check_failed: 1,
  not_found: 1,
  usage: 2,
  config: 2,
  partial_failure: 3,
  restart_failed: 4,
  repository: 10,
  locked: 11,
  repository_auth: 12,
  not_root: 13,
  dependency_missing: 14,
  interrupted: 130,
};

/**
 * The exit status after a signal: the signal's, unless a container's restart failed on the way out, or
 * was never done (a second signal forced the exit first). A container left stopped outranks the
 * interruption, on the signal path as on the normal one.
 */
export function exitStatusAfterSignal(
  sig: Signal,
  lifecycle: Pick<Lifecycle, "failed" | "unfinished">,
): number {
  const down = [
    ...lifecycle.failed(PRIORITY.restartContainers),
    ...lifecycle.unfinished(PRIORITY.restartContainers),
  ];
  return down.length > 0 ? EXIT_CODES.restart_failed : exitStatusForSignal(sig);
}

export function exitCodeFor(e: unknown): number {
  if (e instanceof InterruptedError) return exitStatusForSignal(e.signal);
  if (e instanceof AppError) return EXIT_CODES[e.code];
  return 1;
}

/**
 * The error a finished kopi-docka run's exit status stands for (`systemd run-now --follow` ends with
 * the backup's own status); undefined for 0.
 */
export function errorForExitStatus(status: number, what: string): AppError | undefined {
  if (status === 0) return undefined;
  if (status === 130 || status === 143 || status === 129) {
    const signal = status === 130 ? "SIGINT" : status === 143 ? "SIGTERM" : "SIGHUP";
    return new InterruptedError(signal, `${what} was interrupted by ${signal}`);
  }
  const code = (Object.keys(EXIT_CODES) as ErrorCode[]).find((c) => EXIT_CODES[c] === status);
  return new AppError(code ?? "process_failed", `${what} exited with status ${status}`, {
    hint: "`kopi-docka history --id <run>` shows that run in full",
  });
}

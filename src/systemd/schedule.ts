import { AppError, UsageError } from "../core/errors.ts";
import type { Runner } from "../core/process/runner.ts";

const HINT = 'examples: "daily", "*-*-* 02:00:00", "Mon..Fri 23:30" (see `man systemd.time`)';

/** Where the expression came from: named in messages, and the error type a rejection becomes. */
export interface CalendarOrigin {
  /** e.g. "--on-calendar" or "[schedule] on_calendar". */
  label: string;
  error: (message: string, hint: string) => AppError;
}

const FLAG: CalendarOrigin = {
  label: "--on-calendar",
  error: (message, hint) => new UsageError(message, hint),
};

/**
 * Checks an OnCalendar expression with `systemd-analyze calendar`, the parser systemd itself uses,
 * so a typo fails here instead of leaving a timer that never fires. Without systemd-analyze only the
 * shape is checked (one non-empty line), and `warn` says so.
 */
export async function checkOnCalendar(
  runner: Runner,
  expr: string,
  warn: (m: string) => void,
  origin: CalendarOrigin = FLAG,
): Promise<void> {
  if (!expr.trim() || /[\n\r]/.test(expr))
    throw origin.error(`${origin.label} must be one non-empty line`, HINT);
  let result: Awaited<ReturnType<Runner["run"]>>;
  try {
    result = await runner.run(["systemd-analyze", "calendar", expr], { check: false, timeoutMs: 10_000 });
  } catch (e) {
    if (e instanceof AppError && e.code === "dependency_missing") {
      warn(`systemd-analyze not found: ${origin.label} "${expr}" was not checked`);
      return;
    }
    throw e;
  }
  if (result.exitCode !== 0) {
    const why = result.stderr.trim().split("\n")[0] ?? "";
    throw origin.error(`${origin.label} "${expr}" is not a valid systemd calendar expression: ${why}`, HINT);
  }
}

import { type ConsolaInstance, createConsola } from "consola";

/**
 * The human-facing log. Always stderr: stdout carries data only (JSON, tables a script may parse).
 * Levels: 0 errors only (--quiet), 3 normal, 4 debug (--verbose).
 */
export type Logger = ConsolaInstance;

export function createLogger(level: "quiet" | "normal" | "verbose" = "normal"): Logger {
  return createConsola({
    level: level === "quiet" ? 1 : level === "verbose" ? 4 : 3,
    stdout: process.stderr,
    stderr: process.stderr,
    formatOptions: { date: false, colors: process.stderr.isTTY === true && !process.env.NO_COLOR },
  });
}

/** A logger that drops everything; for tests and library use. */
export function silentLogger(): Logger {
  return createConsola({ level: -999 });
}

import { type ConsolaInstance, createConsola } from "consola";

/**
 * The human-facing log. Always stderr: stdout carries data only (JSON, tables a script may parse).
 * Levels: 0 errors only (--quiet), 3 normal, 4 debug (--verbose).
 */
export type Logger = ConsolaInstance;

export function createLogger(level: "quiet" | "normal" | "verbose" = "normal"): Logger {
  const logger = createConsola({
    level: level === "quiet" ? 1 : level === "verbose" ? 4 : 3,
    stdout: process.stderr,
    stderr: process.stderr,
    formatOptions: { date: false, colors: process.stderr.isTTY === true && !process.env.NO_COLOR },
  });
  // Log lines carry text we do not control (file names in kopia's stderr, compose output, a daemon's
  // error): escaped here, once for every line, so none can move the cursor or retitle a terminal.
  const reporters = logger.options.reporters;
  logger.setReporters([
    {
      log(entry, ctx) {
        const args = entry.args.map((a) => (typeof a === "string" ? printable(a) : a));
        for (const r of reporters) r.log({ ...entry, args }, ctx);
      },
    },
  ]);
  return logger;
}

/**
 * `text` safe to write to a terminal: control characters other than newline and tab (escape
 * sequences, carriage returns, C1 controls) written as `\xNN`, visibly, instead of acted on.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is escaped
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** A logger that drops everything; for tests and library use. */
export function silentLogger(): Logger {
  return createConsola({ level: -999 });
}

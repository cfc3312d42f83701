import { redactArgv, redactText } from "./snapshot/redact.ts";

/**
 * Typed errors. Each carries a stable `code`; `src/cli.ts` alone decides which exit status a code gets.
 * `message` says what happened, `hint` says what to do next. Neither may contain a secret.
 */
export type ErrorCode =
  | "usage"
  | "config"
  | "not_root"
  | "dependency_missing"
  | "check_failed"
  | "process_failed"
  | "repository"
  | "repository_auth"
  | "locked"
  | "partial_failure"
  | "backup_failed"
  | "restart_failed"
  | "restore_failed"
  | "not_found"
  | "interrupted";

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** Bad or missing flags; also a prompt that cannot be shown because there is no TTY. */
export class UsageError extends AppError {
  constructor(message: string, hint?: string) {
    super("usage", message, { hint });
  }
}

/** One problem in a config file, located as precisely as the parser allows. */
export interface ConfigIssue {
  /** Dotted key path, e.g. `retention.daily`; empty for a syntax error. */
  key: string;
  message: string;
  line?: number;
  column?: number;
}

/** The config file is unreadable, not TOML, or does not match the schema. Lists every issue at once. */
export class ConfigError extends AppError {
  readonly file: string;
  readonly issues: ConfigIssue[];
  constructor(file: string, issues: ConfigIssue[], hint?: string) {
    const lines = issues.map((i) => {
      const where = i.line ? `${file}:${i.line}${i.column ? `:${i.column}` : ""}` : file;
      return `  ${where}: ${i.key ? `${i.key}: ` : ""}${i.message}`;
    });
    super("config", `invalid configuration in ${file}\n${lines.join("\n")}`, { hint });
    this.file = file;
    this.issues = issues;
  }
}

/**
 * A child process exited non-zero (or was killed). Carries its argv and stderr tail with secret values
 * redacted: both end up in messages, logs and `--json` errors.
 */
export class ProcessError extends AppError {
  readonly argv: readonly string[];
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stderrTail: string;
  readonly timedOut: boolean;
  /** With `timedOut`: how long it was given, when known. */
  readonly timeoutMs?: number;
  constructor(init: {
    argv: readonly string[];
    exitCode: number | null;
    signal: string | null;
    stderrTail: string;
    timedOut?: boolean;
    timeoutMs?: number;
  }) {
    const how = init.timedOut
      ? "timed out"
      : init.signal
        ? `was killed by ${init.signal}`
        : `exited with code ${init.exitCode}`;
    const argv = redactArgv(init.argv);
    const stderrTail = redactText(init.stderrTail);
    const tail = stderrTail.trim();
    super("process_failed", `\`${argv.join(" ")}\` ${how}${tail ? `: ${tail}` : ""}`);
    this.argv = argv;
    this.exitCode = init.exitCode;
    this.signal = init.signal;
    this.stderrTail = stderrTail;
    this.timedOut = init.timedOut ?? false;
    if (this.timedOut && init.timeoutMs !== undefined) this.timeoutMs = init.timeoutMs;
  }
}

/** The run was interrupted by a signal; `signal` decides 130 vs 143. */
export class InterruptedError extends AppError {
  readonly signal: "SIGINT" | "SIGTERM" | "SIGHUP";
  constructor(signal: "SIGINT" | "SIGTERM" | "SIGHUP" = "SIGINT", message = `interrupted by ${signal}`) {
    super("interrupted", message);
    this.signal = signal;
  }
}

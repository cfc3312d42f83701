import { errnoCode } from "../caught.ts";
import { AppError, ProcessError } from "../errors.ts";
import { redactArgv } from "../snapshot/redact.ts";
import { track } from "./children.ts";
import { readLines, tail } from "./lines.ts";

export interface RunOptions {
  /** Variables added to (or, with `undefined`, removed from) the inherited environment. Secrets go here. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /**
   * What the child reads. A stream is pumped in as the child reads it (one process's `stdoutStream`
   * into another: a pipe without a shell); stdin is closed when the stream ends, and left open when
   * it errors (whoever errored it ends the child through `signal`).
   */
  stdin?: string | Uint8Array | ReadableStream<Uint8Array>;
  /** Given: the child's stdout is handed over as a stream (not collected; `stdout` of the result is ""). */
  stdoutStream?: (stream: ReadableStream<Uint8Array>) => void;
  /** Kill the child after this long; the result is a ProcessError with `timedOut`. */
  timeoutMs?: number;
  /** Aborting kills the child (SIGTERM, then SIGKILL after `killGraceMs`). */
  signal?: AbortSignal;
  /** Exit codes that count as success; default [0]. */
  okExitCodes?: readonly number[];
  /** When false, a failed exit is returned instead of thrown. Default true. */
  check?: boolean;
  onStdoutLine?: (line: string) => void;
  onStderrLine?: (line: string) => void;
  /** A lone `\r` also ends a line for the callbacks (progress output redraws one line with `\r`). */
  splitCarriageReturn?: boolean;
  /** How long a killed child gets between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  /**
   * "inherit": the child reads and writes our terminal directly (a person drives it: the kopia
   * passthrough). It stays in our process group, so it may read the terminal and gets Ctrl+C as we do;
   * `stdout`/`stderr` of the result are empty and `stdin`, the line callbacks and `check` errors'
   * stderr tail do not apply.
   */
  stdio?: "pipe" | "inherit";
}

export interface RunResult {
  argv: readonly string[];
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  aborted: boolean;
}

/** The one seam through which kopi-docka starts processes. Tests substitute a strict fake. */
export interface Runner {
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
}

/** Grace between SIGTERM and SIGKILL: kopia needs a moment to save an incomplete snapshot. */
export const DEFAULT_KILL_GRACE_MS = 10_000;
/**
 * Longest delay `setTimeout` takes (2^31-1 ms, ~24.8 days). A longer one does not wait longer: it
 * fires at once (Node and Bun alike), which would kill a child the moment it started.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;
const timerMs = (ms: number) => Math.min(Math.max(0, ms), MAX_TIMER_MS);
/** Kept stderr per child; enough for any error message, bounded for chatty children. */
const STDERR_KEEP_CHARS = 256 * 1024;

export interface BunRunnerOptions {
  /** Called with every argv before it is spawned (tests count docker invocations with it). */
  onSpawn?: (argv: readonly string[]) => void;
  /** Debug log of every command: argv with secret values redacted, never env. */
  debug?: (message: string) => void;
}

/** The real runner: the only place in kopi-docka that calls Bun.spawn. */
export function createBunRunner(runnerOptions: BunRunnerOptions = {}): Runner {
  return {
    async run(argv, options = {}) {
      if (argv.length === 0 || !argv[0]) throw new AppError("usage", "internal: empty argv");
      const env = childEnv(options.env);
      runnerOptions.onSpawn?.(argv);
      runnerOptions.debug?.(`$ ${redactArgv(argv).join(" ")}`);
      const started = performance.now();
      const inherit = options.stdio === "inherit";
      let child: Bun.Subprocess<"pipe" | "ignore" | "inherit", "pipe" | "inherit", "pipe" | "inherit">;
      try {
        child = Bun.spawn([...argv], {
          env,
          cwd: options.cwd,
          stdin: inherit ? "inherit" : options.stdin === undefined ? "ignore" : "pipe",
          stdout: inherit ? "inherit" : "pipe",
          stderr: inherit ? "inherit" : "pipe",
          // Own process group: a Ctrl+C on the terminal reaches only us, and we end children in order.
          // An inherited terminal needs the foreground group: a background group reading it is stopped.
          detached: !inherit,
        });
      } catch (e) {
        throw spawnFailure(argv, e);
      }
      const untrack = track({
        pid: child.pid,
        argv,
        exited: child.exited,
        done: () => child.exitCode !== null || child.signalCode !== null,
      });
      let pumped: { stop(): void } | undefined;
      if (options.stdin !== undefined && child.stdin && typeof child.stdin !== "number") {
        if (options.stdin instanceof ReadableStream) pumped = pump(options.stdin, child.stdin);
        else {
          child.stdin.write(options.stdin);
          await child.stdin.end();
        }
      }
      const stopper = armStopper(child, options);
      if (options.stdoutStream && typeof child.stdout === "object" && child.stdout)
        options.stdoutStream(child.stdout);
      try {
        const [stdout, stderr] = await Promise.all([
          typeof child.stdout === "object" && child.stdout && !options.stdoutStream
            ? collect(
                child.stdout,
                options.onStdoutLine,
                Number.POSITIVE_INFINITY,
                options.splitCarriageReturn,
              )
            : "",
          typeof child.stderr === "object" && child.stderr
            ? collect(child.stderr, options.onStderrLine, STDERR_KEEP_CHARS, options.splitCarriageReturn)
            : "",
          child.exited,
        ]);
        // The child is gone: what it did not read is not read for it (a write to its closed pipe may
        // never settle).
        pumped?.stop();
        const result: RunResult = {
          argv,
          exitCode: child.exitCode,
          signal: child.signalCode === null ? null : String(child.signalCode),
          stdout,
          stderr,
          durationMs: Math.round(performance.now() - started),
          timedOut: stopper.timedOut(),
          aborted: stopper.aborted(),
        };
        runnerOptions.debug?.(`  exit=${result.exitCode ?? result.signal} in ${result.durationMs} ms`);
        const ok = result.exitCode !== null && (options.okExitCodes ?? [0]).includes(result.exitCode);
        if (!ok && options.check !== false) throw failure(result, options.timeoutMs);
        return result;
      } finally {
        stopper.disarm();
        untrack();
      }
    },
  };
}

/** The ProcessError for a finished, failed run (`timeoutMs`: the limit it ran under, if any). */
export function failure(result: RunResult, timeoutMs?: number): ProcessError {
  return new ProcessError({
    argv: result.argv,
    exitCode: result.exitCode,
    signal: result.signal,
    stderrTail: tail(result.stderr),
    timedOut: result.timedOut,
    timeoutMs,
  });
}

/**
 * Copies a stream into a child's stdin, waiting whenever the child reads slower than it comes.
 * `stop` (the child exited) cancels the source, which ends its producer's pipe.
 */
function pump(from: ReadableStream<Uint8Array>, to: Bun.FileSink): { stop(): void } {
  const reader = from.getReader();
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    reader.cancel().catch(() => {});
  };
  (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || stopped) break;
        // A write the pipe cannot take at once is pending: awaited, so a closed pipe (EPIPE) lands here.
        await to.write(value);
        await to.flush();
      }
      if (!stopped) await to.end();
    } catch {
      // The child went away (EPIPE) or the source failed: the exit codes tell the rest.
      stop();
    }
  })();
  return { stop };
}

/** A child's environment: `base` (ours) with `extra` set over it, a variable given as `undefined` unset. */
export function childEnv(
  extra: RunOptions["env"],
  base: Record<string, string | undefined> = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

function spawnFailure(argv: readonly string[], e: unknown): AppError {
  const code = errnoCode(e);
  if (code === "ENOENT") {
    return new AppError("dependency_missing", `\`${argv[0]}\` was not found on PATH`, {
      hint: `install ${argv[0]} or put it on PATH, then run \`kopi-docka doctor\``,
      cause: e,
    });
  }
  return new AppError("process_failed", `could not start \`${argv[0]}\`: ${String(e)}`, { cause: e });
}

async function collect(
  stream: ReadableStream<Uint8Array>,
  onLine: ((line: string) => void) | undefined,
  keepChars: number,
  carriageReturn = false,
): Promise<string> {
  if (!onLine) {
    const text = await new Response(stream).text();
    return text.length > keepChars ? text.slice(-keepChars) : text;
  }
  let text = "";
  for await (const line of readLines(stream, { carriageReturn })) {
    onLine(line);
    text += `${line}\n`;
    if (text.length > keepChars * 2) text = text.slice(-keepChars);
  }
  return text.length > keepChars ? text.slice(-keepChars) : text;
}

/** An abort reason that shortens (or lengthens) the SIGTERM → SIGKILL grace of the aborted children. */
export class AbortGrace extends Error {
  constructor(
    message: string,
    readonly killGraceMs: number,
  ) {
    super(message);
  }
}

/** Timeout and abort handling: SIGTERM to the child's group, SIGKILL after the grace period. */
function armStopper(child: Bun.Subprocess, options: RunOptions) {
  let timedOut = false;
  let aborted = false;
  const timers: ReturnType<typeof setTimeout>[] = [];
  const kill = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid, sig);
    } catch {
      child.kill(sig);
    }
  };
  const stop = (graceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS) => {
    kill("SIGTERM");
    timers.push(setTimeout(() => kill("SIGKILL"), timerMs(graceMs)));
  };
  // An abort whose reason is an `AbortGrace` sets its own grace (a bound that must hold even when
  // the child hangs on I/O and ignores SIGTERM).
  const onAbort = () => {
    aborted = true;
    const reason = options.signal?.reason;
    stop(reason instanceof AbortGrace ? reason.killGraceMs : undefined);
  };
  if (options.timeoutMs !== undefined) {
    timers.push(
      setTimeout(() => {
        timedOut = true;
        stop();
      }, timerMs(options.timeoutMs)),
    );
  }
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener("abort", onAbort, { once: true });
  return {
    timedOut: () => timedOut,
    aborted: () => aborted,
    disarm() {
      for (const t of timers) clearTimeout(t);
      options.signal?.removeEventListener("abort", onAbort);
    },
  };
}

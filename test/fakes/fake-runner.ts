import { ProcessError } from "../../src/core/errors.ts";
import type { Runner, RunOptions, RunResult } from "../../src/core/process/runner.ts";

export interface Expectation {
  /** Exact argv, or a predicate over it. */
  argv: readonly string[] | ((argv: readonly string[]) => boolean);
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  /** The call hung until its `timeoutMs` and was killed, as the runner does: no exit code. */
  timedOut?: boolean;
  /** Called with the options, e.g. to assert on env. */
  check?: (opts: RunOptions) => void;
  /**
   * A streamed stdout that stays open after `stdout` until the call's signal aborts (a `kopia show`
   * still writing when its reader stopped): then answered as the runner answers a child it killed.
   */
  stdoutOpen?: true;
  /** Reads only this many bytes of a streamed stdin, then answers (a command that stopped early). */
  stdinBytes?: number;
}

/** What the runner answers for a child the caller killed: no output, no exit code. */
export const killed = (argv: readonly string[], stderr = ""): RunResult => ({
  argv,
  exitCode: null,
  signal: "SIGTERM",
  stdout: "",
  stderr,
  durationMs: 0,
  timedOut: false,
  aborted: true,
});

/** Up to the first `n` bytes of `stream` (at least what one read gives), the rest left unread. */
export async function readSome(stream: ReadableStream<Uint8Array>, n: number): Promise<string> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let got = 0;
  while (got < n) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    got += value.byteLength;
  }
  await reader.cancel();
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/** `text`, then nothing until `signal` aborts, when it ends (a killed writer's stdout closes). */
export function openStream(text: string, signal: AbortSignal | undefined): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(ctrl) {
      ctrl.enqueue(new TextEncoder().encode(text));
      const close = () => {
        try {
          ctrl.close();
        } catch {}
      };
      if (signal?.aborted) close();
      else signal?.addEventListener("abort", close, { once: true });
    },
  });
}

/** Resolves once `signal` aborts (never without one: a test that forgets it hangs visibly). */
export const untilAborted = (signal: AbortSignal | undefined) =>
  new Promise<void>((r) => {
    if (signal?.aborted) r();
    else signal?.addEventListener("abort", () => r(), { once: true });
  });

/**
 * A strict scripted runner: each call must match the next expectation (or a `allowAny` entry), or it
 * throws. Nothing ever falls through to a real process. Records every call.
 */
export class FakeRunner implements Runner {
  readonly calls: { argv: readonly string[]; options: RunOptions }[] = [];
  /** What each call with a streamed stdin read (undefined: the stream broke off). */
  readonly stdins: (string | undefined)[] = [];
  #queue: Expectation[];
  #any: Expectation[];

  constructor(queue: Expectation[] = [], any: Expectation[] = []) {
    this.#queue = [...queue];
    this.#any = any;
  }

  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    this.calls.push({ argv, options });
    const matches = (e: Expectation) =>
      typeof e.argv === "function" ? e.argv(argv) : JSON.stringify(e.argv) === JSON.stringify(argv);
    const next = this.#queue[0];
    let exp: Expectation | undefined;
    if (next && matches(next)) exp = this.#queue.shift();
    else exp = this.#any.find(matches);
    if (!exp) throw new Error(`FakeRunner: unexpected command ${JSON.stringify(argv)}`);
    exp.check?.(options);
    // A streamed stdin is read to its end; one that errors (a torn pipe) is answered like a child
    // the caller killed: no output, no exit code.
    if (options.stdin instanceof ReadableStream) {
      const text = await (exp.stdinBytes === undefined
        ? new Response(options.stdin).text()
        : readSome(options.stdin, exp.stdinBytes)
      ).catch(() => undefined);
      this.stdins.push(text);
      if (text === undefined) return killed(argv);
    }
    if (options.stdoutStream && exp.stdoutOpen) {
      options.stdoutStream(openStream(exp.stdout ?? "", options.signal));
      await untilAborted(options.signal);
      return killed(argv, exp.stderr);
    }
    if (options.stdoutStream)
      options.stdoutStream(new Response(exp.stdout ?? "").body ?? new ReadableStream());
    const result: RunResult = {
      argv,
      exitCode: exp.timedOut ? null : (exp.exitCode ?? 0),
      signal: exp.timedOut ? "SIGTERM" : null,
      stdout: options.stdoutStream ? "" : (exp.stdout ?? ""),
      stderr: exp.stderr ?? "",
      durationMs: exp.timedOut ? (options.timeoutMs ?? 0) : 0,
      timedOut: exp.timedOut === true,
      aborted: false,
    };
    const ok = (options.okExitCodes ?? [0]).includes(result.exitCode ?? -1);
    if (!ok && options.check !== false) {
      throw new ProcessError({
        argv,
        exitCode: result.exitCode,
        signal: result.signal,
        stderrTail: result.stderr,
        timedOut: result.timedOut,
        ...(exp.timedOut ? { timeoutMs: options.timeoutMs } : {}),
      });
    }
    return result;
  }

  /** Expectations not yet consumed (a test asserts this is empty). */
  get remaining(): number {
    return this.#queue.length;
  }
}

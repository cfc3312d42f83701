import { errorMessage } from "./caught.ts";
import { InterruptedError } from "./errors.ts";
import { killAllSync, refuseLateStops, runProtected, terminateAll } from "./process/children.ts";

/**
 * One abort path for the whole process. The first SIGINT/SIGTERM/SIGHUP aborts `signal`; children are
 * asked to stop; then every registered compensation runs, highest priority first and, within a
 * priority, newest first. A compensation runs exactly once, whether the work finished, failed, or was
 * interrupted: whichever path gets there first runs it, the other finds it done.
 */
export type Signal = "SIGINT" | "SIGTERM" | "SIGHUP";

export interface Compensation {
  readonly name: string;
  /** Runs the compensation if it has not run yet; later calls return the first call's promise. */
  run(): Promise<void>;
  /** Drops it without running (the thing it would undo was undone normally). */
  dismiss(): void;
}

/** Restarting stopped containers comes before cleaning temp data, which comes before the rest; alerts (sent
 * only once every container runs again, and after the interrupted run is recorded) come last. */
export const PRIORITY = { restartContainers: 10, dataSafety: 20, cleanup: 50, alerts: 60 } as const;

/** How long children get to exit after SIGTERM before SIGKILL, on the signal path. */
export const SIGNAL_CHILD_GRACE_MS = 10_000;

interface Entry {
  comp: Compensation;
  priority: number;
  seq: number;
}

export class Lifecycle {
  readonly #controller = new AbortController();
  readonly #entries: Entry[] = [];
  #seq = 0;
  #received: Signal | undefined;
  #onError: (name: string, e: unknown) => void;
  #childGraceMs: number;
  /** The process lifecycle only: a `docker stop` spawned after the first signal is killed at once. */
  #refuseLateStops: boolean;
  #draining: Promise<void> | undefined;
  /** Compensations running now, whoever started them (runAll, or a direct `comp.run()`). */
  readonly #inFlight = new Map<Compensation, { promise: Promise<void>; priority: number }>();
  /** Compensations that threw, with their priority: a failed restart must reach the exit code. */
  readonly #failed: { name: string; priority: number; error: unknown }[] = [];

  constructor(
    onError: (name: string, e: unknown) => void = () => {},
    options: { childGraceMs?: number; refuseLateStops?: boolean } = {},
  ) {
    this.#onError = onError;
    this.#childGraceMs = options.childGraceMs ?? SIGNAL_CHILD_GRACE_MS;
    this.#refuseLateStops = options.refuseLateStops ?? false;
  }

  /** Aborted on the first signal. Pass it to every long-running call. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The signal that interrupted the run, if any. */
  get interruptedBy(): Signal | undefined {
    return this.#received;
  }

  /** Throws InterruptedError if a signal has arrived. Call between steps. */
  throwIfInterrupted(): void {
    if (this.#received) throw new InterruptedError(this.#received);
  }

  /**
   * Registers a compensation the moment it becomes needed (e.g. right after a container is stopped).
   * `fn` must not depend on `signal`: it runs precisely when that signal has been aborted.
   */
  register(name: string, priority: number, fn: () => Promise<void> | void): Compensation {
    let promise: Promise<void> | undefined;
    const comp: Compensation = {
      name,
      run: () => {
        if (promise) return promise;
        this.#remove(comp);
        let finished = false;
        promise = (async () => {
          try {
            // Children it starts (docker start) are spared by the signal path's terminateAll.
            await runProtected(fn);
          } catch (e) {
            this.#failed.push({ name, priority, error: e });
            this.#onError(name, e);
            throw e;
          } finally {
            finished = true;
            this.#inFlight.delete(comp);
          }
        })();
        // A synchronous fn may already be finished here; only a running one is in flight.
        if (!finished) this.#inFlight.set(comp, { promise, priority });
        return promise;
      },
      dismiss: () => {
        promise ??= Promise.resolve();
        this.#remove(comp);
      },
    };
    this.#entries.push({ comp, priority, seq: this.#seq++ });
    return comp;
  }

  /**
   * Notes a failure that belongs with the compensations of `priority` without being one (the heal's
   * `docker start` at a backup's start): the exit status then counts it as theirs.
   */
  noteFailed(name: string, priority: number, error: unknown): void {
    this.#failed.push({ name, priority, error });
  }

  /** The compensations of `priority` that ran and threw (`PRIORITY.restartContainers`: containers down). */
  failed(priority: number): { name: string; error: unknown }[] {
    return this.#failed.filter((f) => f.priority === priority).map(({ name, error }) => ({ name, error }));
  }

  /** Compensations not yet run, in the order `runAll` would run them. */
  pending(): Compensation[] {
    return this.#ordered().map((e) => e.comp);
  }

  #ordered(): Entry[] {
    return [...this.#entries].sort((a, b) => a.priority - b.priority || b.seq - a.seq);
  }

  #next(): Entry | undefined {
    return this.#ordered()[0];
  }

  /**
   * Names of compensations running now or not yet run: what a forced exit leaves undone. With
   * `priority`, only those (`PRIORITY.restartContainers`: containers a forced exit leaves stopped).
   */
  unfinished(priority?: number): string[] {
    const running = [...this.#inFlight].filter(([, f]) => priority === undefined || f.priority === priority);
    const waiting = this.#ordered().filter((e) => priority === undefined || e.priority === priority);
    return [...running.map(([c]) => c), ...waiting.map((e) => e.comp)].map((c) => c.name);
  }

  /**
   * Runs every pending compensation, one at a time in `pending()` order; errors are reported through
   * onError and do not stop the rest. Concurrent callers (the signal path and the normal path) share
   * one drain, so priorities hold even then.
   */
  runAll(): Promise<void> {
    this.#draining ??= (async () => {
      try {
        // Until nothing is pending or running: a compensation the normal path started directly (a
        // `docker start` in progress) must finish before the signal path may exit.
        for (;;) {
          const next = this.#next();
          // One that runs already (the normal path's `docker start`) and comes earlier ends first: the
          // record of an interrupted run is written after the restarts, whoever started them.
          // With nothing pending, every one in flight.
          const before = [...this.#inFlight.values()].filter((f) => !next || f.priority < next.priority);
          if (before.length > 0) await Promise.allSettled(before.map((f) => f.promise));
          else if (next) await next.comp.run().catch(() => {});
          else break;
        }
      } finally {
        this.#draining = undefined;
      }
    })();
    return this.#draining;
  }

  /** The signal path: abort, end children, compensate. Returns the exit status the signal implies. */
  async onSignal(sig: Signal): Promise<void> {
    if (this.#received) return;
    this.#received = sig;
    if (this.#refuseLateStops) refuseLateStops();
    this.#controller.abort(new InterruptedError(sig));
    await terminateAll(this.#childGraceMs);
    await this.runAll();
  }

  #remove(comp: Compensation): void {
    const i = this.#entries.findIndex((e) => e.comp === comp);
    if (i >= 0) this.#entries.splice(i, 1);
  }
}

/** Exit status conventionally implied by a signal (128 + number). */
export function exitStatusForSignal(sig: Signal): number {
  return sig === "SIGINT" ? 130 : sig === "SIGHUP" ? 129 : 143;
}

/**
 * The process's signal path. First SIGINT/SIGTERM/SIGHUP: say so, abort, end children, compensate, then
 * `exit(130|143|129)`. A second signal while that runs: name what is not done, SIGKILL every child, and
 * `exit` at once. `exit` is injected so that only src/cli.ts calls process.exit (and decides the status:
 * a container left stopped, by a failed or a forced-away restart, is exit 4 there).
 */
export function installSignalHandlers(lifecycle: Lifecycle, exit: (status: number) => void): void {
  let forced = false;
  const handler = (sig: Signal) => {
    if (lifecycle.interruptedBy) {
      if (forced) return;
      forced = true;
      const left = lifecycle.unfinished();
      // The journal still names the containers left stopped: recover starts them.
      const down = lifecycle.unfinished(PRIORITY.restartContainers).length > 0;
      const recover = down ? "; run `kopi-docka recover` to start the containers left stopped" : "";
      process.stderr.write(
        `kopi-docka: forced exit${left.length ? `; not done: ${left.join(", ")}` : ""}${recover}\n`,
      );
      killAllSync();
      exit(exitStatusForSignal(sig));
      return;
    }
    process.stderr.write(`kopi-docka: received ${sig}, cleaning up (send it again to force exit)\n`);
    if (process.stdout.isTTY) process.stdout.write("\x1b[?25h");
    void lifecycle.onSignal(sig).finally(() => exit(exitStatusForSignal(sig)));
  };
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, () => handler(sig));
}

/** Last line of defence for `process.exit` from anywhere (e.g. clack's spinner): no child outlives us. */
export function installExitSafetyNet(): void {
  process.on("exit", () => killAllSync());
}

/** The process-wide lifecycle: signals are process-wide, so is the one path that answers them. */
export const processLifecycle = new Lifecycle(
  (name, e) => {
    process.stderr.write(`kopi-docka: cleanup "${name}" failed: ${errorMessage(e)}\n`);
  },
  { refuseLateStops: true },
);

import { AsyncLocalStorage } from "node:async_hooks";

/**
 * The registry of running child processes, so one abort path can end them all.
 * Children run in their own process group (see runner.ts), so signals go to the whole group.
 */
export interface TrackedChild {
  pid: number;
  argv: readonly string[];
  exited: Promise<unknown>;
  /** True once the process has exited. */
  done(): boolean;
  /** Started by a compensation (e.g. `docker start`): the signal path lets it finish. Set by `track`. */
  protected?: boolean;
}

const running = new Set<TrackedChild>();
const compensating = new AsyncLocalStorage<true>();

/**
 * Runs `fn` so that every child it starts is protected: `terminateAll` (the first signal) leaves it
 * running, because killing a `docker start` that restores service would defeat the compensation.
 * A forced exit (second signal, `killAllSync`) still ends it.
 */
export function runProtected<T>(fn: () => T): T {
  return compensating.run(true, fn);
}

export function track(child: TrackedChild): () => void {
  child.protected = compensating.getStore() === true;
  running.add(child);
  return () => running.delete(child);
}

/** A snapshot of the children still running, oldest first. */
export function runningChildren(): TrackedChild[] {
  return [...running].filter((c) => !c.done());
}

/** Sends `signal` to a child's process group; falls back to the pid alone. Never throws. */
export function signalChild(child: TrackedChild, signal: NodeJS.Signals): void {
  if (child.done()) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      process.kill(child.pid, signal);
    } catch {
      // already gone
    }
  }
}

/**
 * Asks every running child to stop with SIGTERM, waits up to `graceMs`, then SIGKILLs the rest.
 * kopia saves an incomplete snapshot on the first SIGTERM and ignores later ones, hence the escalation.
 */
export async function terminateAll(graceMs: number): Promise<void> {
  const children = runningChildren().filter((c) => !c.protected);
  if (children.length === 0) return;
  for (const c of children) signalChild(c, "SIGTERM");
  const allExited = Promise.allSettled(children.map((c) => c.exited));
  const timedOut = await Promise.race([allExited.then(() => false), Bun.sleep(graceMs).then(() => true)]);
  if (timedOut) for (const c of children) signalChild(c, "SIGKILL");
}

/** Synchronous last resort for `process.on("exit")`: nothing may be left behind. */
export function killAllSync(): void {
  for (const c of runningChildren()) signalChild(c, "SIGKILL");
}

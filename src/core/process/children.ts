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

let refusingStops = false;

/**
 * From now on a `docker stop` started outside a compensation is killed the moment it is spawned, before
 * it can reach the daemon: once the signal path has run, a late stop would leave a container stopped
 * after its restart. Called by the process lifecycle on the first signal.
 */
export function refuseLateStops(): void {
  refusingStops = true;
}

export function track(child: TrackedChild): () => void {
  child.protected = compensating.getStore() === true;
  if (refusingStops && !child.protected && isUncancellable(child.argv)) signalChild(child, "SIGKILL");
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
 * A `docker stop` cannot be cancelled: killing the CLI leaves the daemon stopping the container, which
 * would then stop it again *after* the compensation's `docker start`. The signal path waits for it.
 */
export function isUncancellable(argv: readonly string[]): boolean {
  if ((argv[0] ?? "").split("/").pop() !== "docker") return false;
  const verbs = argv.slice(1).filter((a) => !a.startsWith("-"));
  return verbs[0] === "stop" || (verbs[0] === "container" && verbs[1] === "stop");
}

/** Longest the signal path waits for an uncancellable child (it has its own timeout too). */
export const UNCANCELLABLE_WAIT_MS = 10 * 60_000;

/**
 * Asks every running child to stop with SIGTERM, waits up to `graceMs`, then SIGKILLs the rest.
 * kopia saves an incomplete snapshot on the first SIGTERM and ignores later ones, hence the escalation.
 * Uncancellable children (`docker stop`) are not signalled but waited for, so that compensations run
 * after them; protected ones (started by a compensation) are left alone.
 */
export async function terminateAll(graceMs: number): Promise<void> {
  const all = runningChildren().filter((c) => !c.protected);
  const awaited = all.filter((c) => isUncancellable(c.argv));
  const children = all.filter((c) => !awaited.includes(c));
  for (const c of children) signalChild(c, "SIGTERM");
  const settle = (list: TrackedChild[], ms: number) =>
    Promise.race([
      Promise.allSettled(list.map((c) => c.exited)).then(() => false),
      Bun.sleep(ms).then(() => true),
    ]);
  await Promise.all([
    settle(children, graceMs).then((timedOut) => {
      if (timedOut) for (const c of children) signalChild(c, "SIGKILL");
    }),
    settle(awaited, UNCANCELLABLE_WAIT_MS),
  ]);
}

/** Synchronous last resort for `process.on("exit")`: nothing may be left behind. */
export function killAllSync(): void {
  for (const c of runningChildren()) signalChild(c, "SIGKILL");
}

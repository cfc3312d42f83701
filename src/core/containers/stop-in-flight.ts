import type { ContainerInspect } from "../docker/docker.ts";
import type { Logger } from "../log.ts";
import type { JournalEntry } from "./journal.ts";

/**
 * A dead run's `docker stop` that may still be under way in the daemon. When the whole run is
 * SIGKILLed (systemd's final kill of the service's cgroup, the `docker stop` CLI included), the daemon
 * goes on with the stop: SIGTERM, the timeout, SIGKILL. A recovery that runs at once (ExecStopPost)
 * finds the container still running, the very incarnation that was being stopped; calling it "already
 * running" would clear the entry, and the container would exit seconds later with nothing to bring
 * it back. So the recovery waits, bounded, for that incarnation to exit, as `untilStopped` does on
 * the signal path (backup/containers.ts). Only a young entry can wait: an old run's costs nothing.
 */

/** Past the stop's timeout: the daemon's SIGKILL, the exit and its reaping (a process in D state). */
export const STOP_GRACE_SECONDS = 30;

/**
 * The stop timeout of entries that do not record theirs (written before it was recorded, or by a
 * restore, which stops with `backup.stop_timeout`): the config's, else its default.
 */
export const DEFAULT_STOP_TIMEOUT_SECONDS = 30;

export interface InFlightOptions {
  /** `backup.stop_timeout`, for entries without their own `stopTimeout`. */
  stopTimeoutSec?: number;
  /** Wall clock, ms (tests). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * When the stop the entry recorded may still be under way, ms on the wall clock: its record plus the
 * timeout plus the grace. Undefined when it cannot be: the container is not running, or is running as
 * another incarnation (someone started it after our stop), or the deadline has passed.
 */
export function stopDeadline(
  entry: JournalEntry,
  c: ContainerInspect,
  options: InFlightOptions = {},
): number | undefined {
  if (!c.State.Running || c.State.StartedAt !== entry.startedAt) return undefined;
  const recorded = Date.parse(entry.stoppedAt);
  if (Number.isNaN(recorded)) return undefined;
  const now = (options.now ?? Date.now)();
  const timeout = entry.stopTimeout ?? options.stopTimeoutSec ?? DEFAULT_STOP_TIMEOUT_SECONDS;
  // A record in the future (the clock was set back) waits no longer than a stop issued now would.
  const deadline = Math.min(recorded, now) + (timeout + STOP_GRACE_SECONDS) * 1000;
  return now < deadline ? deadline : undefined;
}

/**
 * The container once the incarnation the entry recorded has exited (undefined: removed meanwhile), or
 * as it is at the deadline (still running: the stop did not happen, and the caller leaves it alone).
 * Inspects it once a second.
 */
export async function untilStopExits(
  inspect: () => Promise<ContainerInspect | undefined>,
  entry: JournalEntry,
  c: ContainerInspect,
  deadline: number,
  log: Logger,
  options: InFlightOptions = {},
): Promise<ContainerInspect | undefined> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => Bun.sleep(ms));
  const name = entry.containerName.replace(/^\//, "");
  log.info(
    `${name} still runs; the docker stop of run ${entry.runId} may still be under way: waiting up to ${Math.ceil((deadline - now()) / 1000)} s for it to exit`,
  );
  const stillRuns = (x: ContainerInspect | undefined) =>
    x?.State.Running && x.State.StartedAt === entry.startedAt;
  return pollWhile(inspect, c, (x) => !!stillRuns(x), deadline, { now, sleep });
}

/**
 * Reads `read` once a second while `stillRuns` holds of the last state read, until `deadline` (ms on
 * `clock.now`); that last state. The one wait for a stopped incarnation to exit: a dead run's stop
 * here, and the start after a failed `docker stop` (backup/containers.ts `untilStopped`).
 */
export async function pollWhile<T>(
  read: () => Promise<T>,
  first: T,
  stillRuns: (state: T) => boolean,
  deadline: number,
  clock: { now: () => number; sleep: (ms: number) => Promise<void> },
): Promise<T> {
  let current = first;
  while (stillRuns(current)) {
    const left = deadline - clock.now();
    if (left <= 0) break;
    await clock.sleep(Math.min(1000, left));
    current = await read();
  }
  return current;
}

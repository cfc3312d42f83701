import { errorMessage } from "../caught.ts";
import type { ContainerState } from "../docker/schemas.ts";
import type { Kopia } from "../kopia/kopia.ts";
import type { Logger } from "../log.ts";
import type { StoppedContainer } from "./containers.ts";
import type { SourceResult } from "./result.ts";

/**
 * Whether a container we stopped ran again before we started it: something else started it (a systemd
 * unit's `docker start -a` with Restart=always, dockerd coming back and applying a restart policy, a
 * person). Our `docker start` of a running container is a no-op and the wait sees it running, so
 * without this its data, read while the app wrote it, would be saved as a cold copy. Told from the
 * state read after our start alone (no docker process in the frozen window; docker's clock is this
 * host's, and both bounds are on the safe side of the daemon's own writes):
 * - its StartedAt is not the one before our stop, and earlier than our start was issued: started by
 *   someone else, and still running;
 * - its FinishedAt is later than our stop returned and earlier than our start: it was started and
 *   stopped again in between.
 * Pure. The reason, or undefined when neither shows (or our stop or start never happened).
 */
export function ranWhileStopped(
  c: Pick<StoppedContainer, "startedAt" | "stopDoneAt" | "startIssuedAt">,
  state: Pick<ContainerState, "StartedAt" | "FinishedAt">,
): string | undefined {
  if (c.stopDoneAt === undefined || c.startIssuedAt === undefined) return undefined;
  const started = Date.parse(state.StartedAt ?? "");
  if (state.StartedAt && state.StartedAt !== c.startedAt && started < c.startIssuedAt)
    return `started by something else at ${state.StartedAt}, while kopi-docka held it stopped for the backup (its data was read while it ran: no cold copy)`;
  const finished = Date.parse(state.FinishedAt ?? "");
  if (finished > c.stopDoneAt && finished < c.startIssuedAt)
    return `ran while kopi-docka held it stopped for the backup: something else started it, and it stopped again at ${state.FinishedAt} (its data was read while it ran: no cold copy)`;
  return undefined;
}

/** What to do about a container that ran during its unit's cold window. */
export const RAN_MEANWHILE_NEXT = (name: string) =>
  `find what starts ${name} while it is stopped (a systemd unit running \`docker start\`, a restart policy applied by a restarted dockerd, a script: docker events --filter container=${name}) and keep it from doing so during the backup, or back it up without stopping it; then back up again`;

/** The unit's data snapshots of a cold window in which a container ran (`ranWhileStopped`): discarded. */
export async function discardWindow(
  d: { kopia: Pick<Kopia, "snapshotDelete">; log: Logger },
  results: readonly SourceResult[],
  ran: readonly string[],
  unit: string,
): Promise<SourceResult[]> {
  return discardSnapshots(
    d,
    results,
    `discarded: ${ran.join(", ")} ran while its data was read, not a cold copy`,
    unit,
  );
}

/**
 * Data snapshots that must not count (`why`): each fails, and what kopia saved is deleted, so the
 * point is incomplete and never offered as a restore point. A delete that fails is named in the
 * source's reason: that snapshot still looks whole.
 */
export async function discardSnapshots(
  d: { kopia: Pick<Kopia, "snapshotDelete">; log: Logger },
  results: readonly SourceResult[],
  why: string,
  unit: string,
): Promise<SourceResult[]> {
  const ids = results.flatMap((r) => (r.snapshotId ? [r.snapshotId] : []));
  let failure: string | undefined;
  try {
    // No signal: after one, this delete matters most (a saved snapshot would make the point whole).
    await d.kopia.snapshotDelete(ids);
  } catch (e) {
    failure = errorMessage(e);
    d.log.error(`${unit}: snapshots that must not count NOT deleted (${why}): ${ids.join(", ")}`);
  }
  return results.map((r) => {
    const kept =
      r.snapshotId && failure
        ? `; snapshot ${r.snapshotId} could NOT be deleted (${failure}): kopi-docka snapshots delete --snapshot ${r.snapshotId}`
        : "";
    const reason = r.status === "ok" || r.snapshotId ? `${why}${kept}` : (r.reason ?? why);
    return { type: r.type, label: r.label, status: "failed", durationMs: r.durationMs, reason };
  });
}

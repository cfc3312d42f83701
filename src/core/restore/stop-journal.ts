import { createJournal, type JournalEntry } from "../containers/journal.ts";
import type { Docker } from "../docker/docker.ts";
import { isProcessAlive } from "../lock/owner.ts";
import type { Logger } from "../log.ts";

/**
 * A restore's stops in the restart journal (containers/journal.ts), so a restore killed outright
 * (SIGKILL, power loss), which runs no compensation, leaves no container stopped unnoticed: the next
 * run's recovery starts those whose data was not touched yet, and leaves stopped, naming them at
 * every run, those whose data was being replaced (`hold`: half-restored data must not come up).
 * A restore that ends by itself clears what it started again and keeps what it leaves stopped.
 */
export interface RestoreStops {
  /** Recorded (durable) before `docker stop`, as backup does. */
  stopping(c: { id: string; name: string }): Promise<void>;
  /**
   * Before the first byte of data is replaced: every recorded container is held from then on, and so
   * is each container using that data (`users`) that a dead run's entry would still start (a backup
   * killed with it stopped, whose start failed since): recovery must not bring it up on half of it.
   */
  hold(undoPoint: string | undefined, users?: readonly string[]): void;
  /** The container runs again, or is gone: nothing left to recover. */
  done(id: string): void;
  /**
   * Its data is restored whole but it did not start: the entry stays for the next run's recovery to
   * start it, no longer held (nothing half-restored is left to warn about).
   */
  release(id: string): void;
  /**
   * After an in-place restore of the unit finished: the containers an earlier, interrupted restore of
   * it held whose data this one replaced (`users`; half restored, now whole) are no longer held; a
   * copy's, or one using what this point lacks, stays held. Their names.
   */
  settleHeld(users: readonly string[]): string[];
}

export function restoreStops(
  d: { docker: Docker; log: Logger; paths: { journalDir: string } },
  o: { runId: string; unit: string; now?: () => Date },
): RestoreStops {
  const journal = createJournal(d.paths.journalDir, { warn: (m) => d.log.warn(m) });
  const entries = new Map<string, JournalEntry>();
  return {
    async stopping(c) {
      const state = await d.docker.containerState(c.id);
      if (!state.Running || !state.StartedAt) return;
      const entry: JournalEntry = {
        runId: o.runId,
        pid: process.pid,
        unit: o.unit,
        containerId: c.id,
        containerName: c.name,
        stoppedAt: (o.now?.() ?? new Date()).toISOString(),
        startedAt: state.StartedAt,
      };
      journal.record(entry);
      entries.set(c.id, entry);
    },
    hold(undoPoint, users) {
      const back = undoPoint
        ? `, or go back: kopi-docka restore --unit ${o.unit} --run ${undoPoint}`
        : " (no undo point was taken)";
      const hold = `restore ${o.runId} of ${o.unit} was replacing its data when it ended, so it may hold half-restored data: restore it again${back}; then start it (docker start)`;
      for (const [id, e] of entries) {
        const held = { ...e, hold };
        journal.record(held);
        entries.set(id, held);
      }
      for (const e of journal.entries())
        if (!e.hold && e.runId !== o.runId && (users ?? []).includes(e.containerId))
          journal.record({ ...e, hold });
    },
    release(id) {
      const e = entries.get(id);
      if (!e?.hold) return;
      const { hold: _, ...whole } = e;
      journal.record(whole);
      entries.set(id, whole);
    },
    done(id) {
      if (!entries.has(id)) return;
      journal.clear(o.runId, id);
      entries.delete(id);
    },
    settleHeld(users) {
      const earlier = journal
        .entries()
        .filter(
          (e) =>
            e.hold &&
            e.unit === o.unit &&
            e.runId !== o.runId &&
            users.includes(e.containerId) &&
            !isProcessAlive(e.pid, e.pidStartTime),
        );
      for (const e of earlier) journal.clear(e.runId, e.containerId);
      return [...new Set(earlier.map((e) => e.containerName.replace(/^\//, "")))];
    },
  };
}

import { errorMessage } from "../caught.ts";
import {
  clearEntry,
  holdPolicy,
  policyOf,
  putBackPolicy,
  type SavedPolicy,
} from "../containers/held-policy.ts";
import { createJournal, type JournalEntry } from "../containers/journal.ts";
import type { ContainerInspect, Docker } from "../docker/docker.ts";
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
   * A user that is stopped already and no entry names (crashed, stopped by hand) is held too, in an
   * entry of its own marked `alreadyStopped`: dockerd would start an `always` one at its own start.
   * Each one's restart policy is saved in its entry, then set to `no` (`held-policy.ts`).
   */
  hold(undoPoint: string | undefined, users?: readonly string[]): Promise<void>;
  /**
   * Every source is restored whole: the containers it held that were stopped already are no longer
   * held (their policy put back, their entries cleared), and none is started here.
   */
  restored(): Promise<void>;
  /** The container runs again, or is gone: nothing left to recover (a held policy is put back). */
  done(id: string): Promise<void>;
  /**
   * Its data is restored whole but it did not start, or it started and is still to be paused again:
   * the entry stays for the next run's recovery to start it (or to say `docker pause NAME`), no longer
   * held (nothing half-restored is left to warn about), its policy put back.
   */
  release(id: string): Promise<void>;
  /**
   * After an in-place restore of the unit finished: the containers an earlier, interrupted restore of
   * it held whose data this one replaced (`users`; half restored, now whole) are no longer held; a
   * copy's, or one using what this point lacks, stays held. Their names.
   */
  settleHeld(users: readonly string[]): Promise<string[]>;
  /**
   * The restore ends with its data short of files (`partial-hold.ts`): every container it still holds
   * stays held, its hold now saying why (`hold`). Their names, those it stopped in the order they start
   * (the reverse of the stops), then those stopped before it.
   */
  keepHeld(hold: string): Promise<string[]>;
}

export function restoreStops(
  d: { docker: Docker; log: Logger; paths: { journalDir: string } },
  o: { runId: string; unit: string; now?: () => Date },
): RestoreStops {
  const journal = createJournal(d.paths.journalDir, { warn: (m) => d.log.warn(m) });
  const entries = new Map<string, JournalEntry>();
  /** The containers as docker inspects them now; none known when docker cannot tell (said). */
  const inspect = async (ids: string[]) => {
    const out = new Map<string, ContainerInspect>();
    if (ids.length === 0) return out;
    try {
      for (const c of await d.docker.inspectContainers(ids)) {
        const id = ids.find((x) => c.Id.startsWith(x) || c.Name === `/${x}`);
        if (id) out.set(id, c);
      }
    } catch (e) {
      d.log.warn(`cannot inspect the containers it holds: ${errorMessage(e)}`);
    }
    return out;
  };
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
        ...(state.Paused ? { paused: true } : {}),
      };
      journal.record(entry);
      entries.set(c.id, entry);
    },
    async hold(undoPoint, users) {
      const back = undoPoint
        ? `, or go back: kopi-docka restore --unit ${o.unit} --run ${undoPoint}`
        : " (no undo point was taken)";
      const hold = `restore ${o.runId} of ${o.unit} was replacing its data when it ended, so it may hold half-restored data: restore it again${back}; then start it (docker start)`;
      const all = journal.entries();
      const others = all.filter(
        (e) => !e.hold && e.runId !== o.runId && (users ?? []).includes(e.containerId),
      );
      // Stopped before this run (nothing of ours stopped it), so no entry names it yet.
      const named = new Set(all.map((e) => e.containerId));
      const unnamed = (users ?? []).filter((id) => !entries.has(id) && !named.has(id));
      const found = await inspect([...entries.keys(), ...others.map((e) => e.containerId), ...unnamed]);
      const policies = new Map([...found].map(([id, c]) => [id, policyOf(c)]));
      // A policy already `no` because an earlier restore holds the container: that one's saved policy.
      const saved = (id: string): SavedPolicy | undefined => {
        const now = policies.get(id);
        if (now?.name !== "no") return now;
        return all.find((e) => e.containerId === id && e.heldPolicy)?.heldPolicy ?? now;
      };
      const held: JournalEntry[] = [];
      for (const [id, e] of entries) {
        const h = withPolicy({ ...e, hold }, saved(id));
        journal.record(h);
        entries.set(id, h);
        held.push(h);
      }
      for (const e of others) {
        const h = withPolicy({ ...e, hold }, saved(e.containerId));
        journal.record(h);
        held.push(h);
      }
      for (const id of unnamed) {
        const c = found.get(id);
        if (!c || c.State.Running) continue;
        const h = withPolicy(
          {
            runId: o.runId,
            pid: process.pid,
            unit: o.unit,
            containerId: id,
            containerName: c.Name,
            stoppedAt: (o.now?.() ?? new Date()).toISOString(),
            // Docker's zero time for one never started: a start by anyone changes it all the same.
            startedAt: c.State.StartedAt || "0001-01-01T00:00:00Z",
            alreadyStopped: true,
            hold: `restore ${o.runId} of ${o.unit} was replacing the data it uses when it ended (it was stopped already, and stays so), so it may hold half-restored data: restore it again${back}`,
          },
          saved(id),
        );
        journal.record(h);
        entries.set(id, h);
        held.push(h);
      }
      // Only once every entry saying what to put back is durable.
      for (const h of held) await holdPolicy(d.docker, h, d.log);
    },
    async restored() {
      for (const [id, e] of entries) {
        if (!e.alreadyStopped) continue;
        await clearEntry({ docker: d.docker, journal, log: d.log }, e);
        entries.delete(id);
      }
    },
    async release(id) {
      const e = entries.get(id);
      if (!e?.hold) return;
      const { hold: _, ...whole } = e;
      const kept = (await putBackPolicy(d.docker, e, d.log)) ? dropPolicy(whole) : whole;
      journal.record(kept);
      entries.set(id, kept);
    },
    async done(id) {
      const e = entries.get(id);
      if (!e) return;
      await clearEntry({ docker: d.docker, journal, log: d.log }, e);
      entries.delete(id);
    },
    async settleHeld(users) {
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
      for (const e of earlier) await clearEntry({ docker: d.docker, journal, log: d.log }, e);
      return [...new Set(earlier.map((e) => e.containerName.replace(/^\//, "")))];
    },
    async keepHeld(hold) {
      const kept = [...entries.values()].filter((e) => e.hold);
      for (const e of kept) {
        const h = { ...e, hold };
        journal.record(h);
        entries.set(e.containerId, h);
      }
      const name = (e: JournalEntry) => e.containerName.replace(/^\//, "");
      const stopped = kept.filter((e) => !e.alreadyStopped).reverse();
      return [...stopped, ...kept.filter((e) => e.alreadyStopped)].map(name);
    },
  };
}

const withPolicy = (e: JournalEntry, p: SavedPolicy | undefined): JournalEntry =>
  p ? { ...e, heldPolicy: p } : e;

function dropPolicy(e: JournalEntry): JournalEntry {
  const { heldPolicy: _, ...rest } = e;
  return rest;
}

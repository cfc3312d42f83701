import { existsSync } from "node:fs";
import { errorMessage } from "../caught.ts";
import { findOrphans, runMarker, settleOrphans } from "../containers/orphans.ts";
import { isProcessAlive } from "../lock/owner.ts";
import type { Logger } from "../log.ts";
import type { Runner } from "../process/runner.ts";
import { clearSnapshot, fsSnapshotJournalDir, snapshotEntries } from "./journal.ts";
import { driverNamed } from "./locate.ts";

export interface SnapshotRecovery {
  /** Snapshots a dead run left, now deleted. */
  removed: string[];
  /** Snapshots that could not be deleted (the entry is kept for the next try). */
  failed: { snapshot: string; reason: string }[];
}

/**
 * Deletes the filesystem snapshots runs that are gone left behind (SIGKILL, power loss, a snapshot
 * btrfs had not finished when the run gave up on it), as their journal entries name them; a live
 * run's are its own business. Only a path that is one of ours by name is ever deleted (the journal's
 * schema checks it), and only by the driver that made it.
 */
export async function removeStaleSnapshots(o: {
  runner: Runner;
  journalDir: string;
  log: Logger;
  isAlive?: (pid: number, startTime?: number | null) => boolean;
  /** Tests with made-up pids: no /proc search for the dead runs' processes. */
  skipOrphans?: boolean;
}): Promise<SnapshotRecovery> {
  const dir = fsSnapshotJournalDir(o.journalDir);
  const isAlive = o.isAlive ?? isProcessAlive;
  const out: SnapshotRecovery = { removed: [], failed: [] };
  const entries = snapshotEntries(dir, (file, why) =>
    o.log.warn(`snapshot journal: ${file} left alone: ${why}`),
  );
  const dead = entries.filter((x) => !isAlive(x.pid, x.pidStartTime));
  const markers = new Set(dead.map((e) => runMarker(e.pid, e.pidStartTime)));
  // A kopia of the dead run may still read a snapshot: it is ended first (as `recover` ends orphans).
  // A `btrfs subvolume snapshot` stuck in the kernel outlives even SIGKILL (not waited for past the grace).
  let running = new Set<string>();
  if (dead.length > 0 && !o.skipOrphans) {
    await settleOrphans(markers, { log: o.log });
    running = new Set([...markers].filter((m) => findOrphans(new Set([m])).length > 0));
  }
  for (const e of dead) {
    try {
      // Not known by its id while a process of its run still runs: that may be its create, which
      // makes it after this look. Kept for the next recovery.
      if (!e.identity && running.has(runMarker(e.pid, e.pidStartTime))) {
        const reason =
          "a process of its run still runs (btrfs stuck creating it?): left for the next recovery";
        out.failed.push({ snapshot: e.snapshot, reason });
        o.log.warn(`snapshot ${e.snapshot}: ${reason}`);
        continue;
      }
      // By its id; else, journaled with the mark, only the snapshot the run made, if it made one;
      // else (an older kopi-docka's entry) a path that is there, never through a link.
      const removable = e.identity || e.made || existsSync(e.snapshot);
      const driver = driverNamed(e.driver);
      const removed =
        removable && driver ? await driver.remove(o.runner, e.snapshot, e.identity, e.made) : false;
      clearSnapshot(dir, e.snapshot);
      if (!removed) continue;
      out.removed.push(e.snapshot);
      o.log.info(`recovered: removed ${e.driver} snapshot ${e.snapshot} (run ${e.runId} did not finish)`);
    } catch (err) {
      out.failed.push({ snapshot: e.snapshot, reason: errorMessage(err) });
      o.log.error(`could not remove snapshot ${e.snapshot}: ${errorMessage(err)}`);
    }
  }
  return out;
}

import { existsSync } from "node:fs";
import { errorMessage } from "../caught.ts";
import { runMarker, settleOrphans } from "../containers/orphans.ts";
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
 * Deletes the filesystem snapshots runs that are gone left behind (SIGKILL, power loss), as their
 * journal entries name them; a live run's are its own business. Only a path that is one of ours by
 * name is ever deleted (the journal's schema checks it), and only by the driver that made it.
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
  // A kopia of the dead run may still read a snapshot: it is ended first (as `recover` ends orphans).
  if (dead.length > 0 && !o.skipOrphans)
    await settleOrphans(new Set(dead.map((e) => runMarker(e.pid, e.pidStartTime))), { log: o.log });
  for (const e of dead) {
    try {
      // Known by its id: removed by that (gone already is fine; an unmounted disk keeps the entry).
      // Else only a path that is there: the run died before it could read which one it made.
      if (e.identity || existsSync(e.snapshot)) {
        await driverNamed(e.driver)?.remove(o.runner, e.snapshot, e.identity);
        out.removed.push(e.snapshot);
        o.log.info(`recovered: removed ${e.driver} snapshot ${e.snapshot} (run ${e.runId} did not finish)`);
      }
      clearSnapshot(dir, e.snapshot);
    } catch (err) {
      out.failed.push({ snapshot: e.snapshot, reason: errorMessage(err) });
      o.log.error(`could not remove snapshot ${e.snapshot}: ${errorMessage(err)}`);
    }
  }
  return out;
}

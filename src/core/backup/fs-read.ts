import { errorMessage } from "../caught.ts";
import type { SnapshotIdentity } from "../fs-snapshot/driver.ts";
import { driverNamed, hostFs } from "../fs-snapshot/locate.ts";
import { openView, type SnapshotView } from "../fs-snapshot/view.ts";
import type { BackupDeps } from "./deps.ts";
import type { Frozen } from "./fs-freeze.ts";
import type { SourcePlan } from "./plan-model.ts";
import { discardSnapshots } from "./ran-meanwhile.ts";
import { failedSource, type SourceResult } from "./result.ts";

/**
 * The sources of one frozen volume, each snapshotted by kopia under its usual identity from the
 * snapshot's root held open and checked to be the one made (`view.ts`), never from the snapshot's path
 * (a container seeing the volume's root can swap a link in there). A source with a symlink on its way
 * inside the snapshot is not read. Kept only when the snapshot is still as made after the reads (such
 * a container can make it writable and change it meanwhile); else discarded. Never throws.
 */
export async function readFrozen(
  d: BackupDeps,
  f: Frozen & { identity: SnapshotIdentity },
  sources: readonly SourcePlan[],
  o: {
    snap: (s: SourcePlan, signal: AbortSignal) => Promise<SourceResult>;
    unit: string;
  },
): Promise<SourceResult[]> {
  const driver = driverNamed(f.spec.driver);
  let view: SnapshotView;
  try {
    if (!driver) throw new Error(`no driver ${f.spec.driver}`);
    view = await openView(d.runner, driver, f.spec.snapshot, f.identity, d.fs ?? hostFs);
  } catch (e) {
    const why = `not snapshotted: the filesystem snapshot could not be opened: ${errorMessage(e)}`;
    d.log.error(`${o.unit}: ${f.spec.volume}: ${errorMessage(e)}`);
    return sources.map((s) => failedSource(s, why));
  }
  try {
    const results: SourceResult[] = [];
    for (const s of sources) {
      if (d.lifecycle.signal.aborted) break;
      let path: string;
      try {
        path = view.path(s.fsSnapshot?.kind === "snapshot" ? s.fsSnapshot.relative : "");
      } catch (e) {
        d.log.error(`${o.unit}: ${s.type} ${s.label}: ${errorMessage(e)}`);
        results.push(failedSource(s, `not snapshotted: ${errorMessage(e)}`));
        continue;
      }
      results.push(await o.snap({ ...s, path }, d.lifecycle.signal));
    }
    const changed =
      view.moved() ??
      (await driver.changed(d.runner, f.identity).catch((e) => `it cannot be checked: ${errorMessage(e)}`));
    if (!changed) return results;
    d.log.error(`${o.unit}: the snapshot of ${f.spec.volume} changed while kopia read it: ${changed}`);
    const why = `discarded: the filesystem snapshot of ${f.spec.volume} changed while kopia read it (${changed}): something that sees it changed it; not the data at stop time`;
    return await discardSnapshots(d, results, why, o.unit);
  } finally {
    view.close();
  }
}

import { lstatSync } from "node:fs";
import { errorMessage } from "../caught.ts";
import type { FrozenSpec, MadeAfter, SnapshotIdentity } from "../fs-snapshot/driver.ts";
import { FsSnapshotError } from "../fs-snapshot/errors.ts";
import { clearSnapshot, fsSnapshotJournalDir, recordSnapshot } from "../fs-snapshot/journal.ts";
import { driverNamed } from "../fs-snapshot/locate.ts";
import { type Compensation, PRIORITY } from "../safe-exit.ts";
import { within } from "../within.ts";
import type { BackupDeps } from "./deps.ts";

/**
 * A `btrfs subvolume snapshot` still running this long has outlived its own timeout and kill: it is
 * stuck in the kernel (a frozen filesystem, a hung device), and nothing ends it. Given up on then,
 * even with no `max_cold_seconds`: the containers do not wait for the disk.
 */
export const CREATE_GIVE_UP_MS = 75_000;
/** How long a removal waits for a create given up on (at the run's end): then the journal keeps it. */
export const CREATE_SETTLE_MS = 60_000;

export interface Frozen {
  spec: Omit<FrozenSpec, "newerThan">;
  removal: Compensation;
  /** The snapshot as made: only then is it read. */
  identity?: SnapshotIdentity;
  /**
   * Its create did not return before the cold window's bound (or a signal): the containers start
   * without it; its removal, left to the run's end, waits for the create (bounded) and deletes what it made.
   */
  abandoned: boolean;
}

/**
 * Journal entry (durable, with the mark that tells the snapshot made) → removal registered →
 * snapshot: whenever this process ends from here on, the snapshot is removed, by this run or by the
 * next recovery. Never throws; `identity` says whether the snapshot is there to read. The create is
 * raced against `signal` (the cold bound): a process stuck in the kernel ignores its kill.
 */
export async function freeze(
  d: BackupDeps,
  spec: Omit<FrozenSpec, "newerThan">,
  runId: string,
  signal: AbortSignal,
): Promise<Frozen> {
  const driver = driverNamed(spec.driver);
  const dir = fsSnapshotJournalDir(d.journal.dir);
  // Something already at our name is not ours: btrfs would snapshot into it (a directory, or where a
  // link leads). Never touched; the volume is read cold instead.
  if (lstatSync(spec.snapshot, { throwIfNoEntry: false })) {
    d.log.warn(`${spec.snapshot} exists and is not this run's: left alone; ${spec.volume} is read cold`);
    const removal = { name: "nothing to remove", run: async () => {}, dismiss: () => {} };
    return { spec, removal, abandoned: false };
  }
  let creating: Promise<SnapshotIdentity | undefined> | undefined;
  let identity: SnapshotIdentity | undefined;
  let made: MadeAfter | undefined;
  const removal = d.lifecycle.register(`remove snapshot ${spec.snapshot}`, PRIORITY.cleanup, async () => {
    // The create may still run (given up on, or a btrfs flush outliving its killed process): what
    // it makes after all is removed too. Not waited for forever: the journal then keeps it.
    if (creating) {
      const settled = await within(creating, CREATE_SETTLE_MS);
      if (!settled.done)
        throw new FsSnapshotError(
          `btrfs is still creating ${spec.snapshot} after ${CREATE_SETTLE_MS / 1000} s more: the journal keeps it; the next backup or \`kopi-docka recover\` removes it once btrfs is done`,
        );
      identity ??= settled.value;
    }
    if (identity || made) await driver?.remove(d.runner, spec.snapshot, identity, made);
    clearSnapshot(dir, spec.snapshot);
  });
  try {
    if (!driver) throw new Error(`no driver ${spec.driver}`);
    const newerThan = await driver.newest(d.runner, spec.mount);
    const entry = { runId, driver: spec.driver, snapshot: spec.snapshot, volume: spec.volume };
    made = { volumeUuid: spec.volumeUuid, newerThan, mount: spec.mount };
    recordSnapshot(dir, { ...entry, made });
    const t0 = performance.now();
    const create = driver.create(d.runner, { ...spec, newerThan }, signal);
    creating = create.catch(() => undefined);
    const done = await within(create, CREATE_GIVE_UP_MS, signal);
    if (!done.done) {
      d.log.warn(
        `${spec.volume}: the ${spec.driver} snapshot has not returned in ${Math.round(performance.now() - t0)} ms (${signal.aborted ? "the cold window's bound" : "stuck"}): given up, the containers start; it is removed once ${spec.driver} is done`,
      );
      return { spec, removal, abandoned: true };
    }
    identity = done.value;
    // Before the containers start: from now on the snapshot is removed by its id, wherever its name went.
    recordSnapshot(dir, { ...entry, made, identity });
    d.log.info(`${spec.volume}: ${spec.driver} snapshot in ${Math.round(performance.now() - t0)} ms`);
    return { spec, removal, identity, abandoned: false };
  } catch (e) {
    d.log.warn(`${spec.volume}: no filesystem snapshot (${errorMessage(e)}); reading it cold`);
    await removal.run().catch(() => {});
    return { spec, removal, abandoned: false };
  }
}

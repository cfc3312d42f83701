import { expect } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { runBackup } from "../../src/core/backup/run.ts";
import { describeTree } from "../helpers/tree.ts";
import { bareRestore, type coreDeps } from "./backup-helpers.ts";

/** One round of both writers: 8 files rewritten with same-size content, a rename, a delete. */
const WRITE_STEP = `  i=$((i+1))
  for k in 0 1 2 3 4 5 6 7; do printf '%08d-%s\\n' "$i" "$k" > w/same$k; done
  echo "$i" > w/tmp && mv w/tmp w/renamed$((i % 5))
  rm -f w/del$((i % 3)); echo "$i" > w/del$(((i + 1) % 3))`;

/**
 * Rewrites 8 files with same-size content, renames, deletes, with no pause. On SIGTERM it marks the
 * volume frozen and exits; while frozen (after the backup's restart) it writes nothing, so the volume
 * after the backup is the volume at stop time. Removing the flag lets it write again.
 */
export const RACING_WRITER = `
cd /data
mkdir -p w
i=0
trap 'touch frozen; exit 0' TERM
while true; do
  if [ -f frozen ]; then sleep 0.05; continue; fi
${WRITE_STEP}
done
`;

/** Backup run `i` of `unit` must end ok; its volume snapshot is restored into `target`. */
async function backupAndRestore(deps: ReturnType<typeof coreDeps>, unit: string, i: number, target: string) {
  const record = await runBackup(deps, { units: [unit] });
  expect({ run: i, status: record.status, errors: record.units[0]?.errors }).toEqual({
    run: i,
    status: "ok",
    errors: [],
  });
  const vol = record.units[0]?.sources.find((s) => s.type === "volume");
  await bareRestore(deps, vol?.snapshotId ?? "", target);
  return record;
}

/**
 * `runs` backups of `unit`, whose RACING_WRITER (volume at `mountpoint`) is let go before each; every
 * one must restore (into `scratch`) to the volume's bytes at stop time. Returns the frozen windows (ms).
 */
export async function expectStopTimeBytes(
  deps: ReturnType<typeof coreDeps>,
  unit: string,
  mountpoint: string,
  scratch: string,
  runs: number,
): Promise<number[]> {
  const frozen: number[] = [];
  for (let i = 0; i < runs; i++) {
    rmSync(join(mountpoint, "frozen"), { force: true });
    await Bun.sleep(300); // the writer is at full speed again
    const target = join(scratch, `restored-${i}`);
    const record = await backupAndRestore(deps, unit, i, target);
    // frozen: the writer is idle after the restart, so the volume now is the volume at stop time.
    expect({ run: i, tree: describeTree(target) }).toEqual({ run: i, tree: describeTree(mountpoint) });
    rmSync(target, { recursive: true, force: true });
    frozen.push(record.units[0]?.frozenWindowMs ?? -1);
  }
  return frozen;
}

/**
 * Like RACING_WRITER, but it never pauses: started again after the backup, it rewrites `w` at once,
 * while kopia may still be saving what it read. On SIGTERM it first copies `w` to `stop` (same bytes,
 * modes and mtimes), so a snapshot holds the stop-time `w` as `stop` beside it.
 */
export const RESUMING_WRITER = `
cd /data
mkdir -p w
i=0
trap 'rm -rf stop.tmp stop; cp -a w stop.tmp && mv stop.tmp stop; exit 0' TERM
while true; do
${WRITE_STEP}
done
`;

/**
 * `runs` backups of `unit`, whose RESUMING_WRITER runs again as soon as the containers start: in every
 * restored snapshot `w` equals `stop`, the copy made at the stop, so nothing was read after the start.
 */
export async function expectNothingReadAfterStart(
  deps: ReturnType<typeof coreDeps>,
  unit: string,
  scratch: string,
  runs: number,
): Promise<void> {
  for (let i = 0; i < runs; i++) {
    const target = join(scratch, `resumed-${i}`);
    await backupAndRestore(deps, unit, i, target);
    // busybox `cp -a` keeps mtimes to the second only
    const tree = (d: string) =>
      Object.entries(describeTree(join(target, d))).map(([k, e]) => ({
        ...e,
        k,
        mtimeMs: e.mtimeMs === undefined ? undefined : Math.floor(e.mtimeMs / 1000),
      }));
    const w = tree("w");
    expect(w.length).toBeGreaterThan(8);
    expect({ run: i, w }).toEqual({ run: i, w: tree("stop") });
    rmSync(target, { recursive: true, force: true });
  }
}

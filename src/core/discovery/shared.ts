import { pathsOverlap } from "./bind-filter.ts";
import type { MountInfo, Unit } from "./model.ts";

/** How a writer no unit holds (excluded, a one-off `compose run`) is named in `writtenByOthers`. */
export const LEFT_OUT = "left out of unit";

/** A running container that mounts something writable, and the unit whose backup stops it (if any). */
interface Writer {
  stoppedWith?: Unit;
  who: string;
  m: MountInfo;
}

const writable = (mounts: readonly MountInfo[]) => mounts.filter((m) => !m.readOnly);

/**
 * Marks each unit's volumes and bind sources that a running container its backup does not stop mounts
 * writable (`writtenByOthers`): another unit's ("c (unit U)"), or one left out of a unit, this one
 * included ("c (left out of unit U: why)"). A cold backup stops only its own unit's containers: what
 * the others keep writing is read live, and the run says so instead of calling it a cold copy. Pure.
 */
export function markShared(units: readonly Unit[]): void {
  const writers: Writer[] = units.flatMap((u) => [
    ...u.containers
      .filter((c) => c.running)
      .flatMap((c) =>
        writable(c.mounts).map((m) => ({ stoppedWith: u, who: `${c.name} (unit ${u.name})`, m })),
      ),
    ...(u.skippedContainers ?? [])
      .filter((c) => c.running)
      .flatMap((c) =>
        writable(c.mounts).map((m) => ({ who: `${c.name} (${LEFT_OUT} ${u.name}: ${c.reason})`, m })),
      ),
  ]);
  for (const u of units) {
    // A left-out container is stopped with no unit: it writes even to its own unit's data.
    const others = writers.filter((w) => w.stoppedWith !== u);
    const who = (hits: Writer[]) => [...new Set(hits.map((w) => w.who))];
    for (const v of u.volumes) {
      const hits = who(others.filter((w) => w.m.type === "volume" && w.m.volumeName === v.name));
      if (hits.length) v.writtenByOthers = hits;
    }
    for (const b of u.bindMounts) {
      const hits = who(others.filter((w) => w.m.type === "bind" && pathsOverlap(w.m.source, b.source)));
      if (hits.length) b.writtenByOthers = hits;
    }
  }
}

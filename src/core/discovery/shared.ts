import { pathsOverlap } from "./bind-filter.ts";
import type { Unit } from "./model.ts";

/**
 * Marks each unit's volumes and bind sources that a running container of another unit mounts
 * writable (`writtenByOthers`: "container (unit U)"). A cold backup stops only its own unit: what
 * another one keeps writing is read live, and the run says so instead of calling it a cold copy.
 * Pure.
 */
export function markShared(units: readonly Unit[]): void {
  const writers = units.flatMap((u) =>
    u.containers
      .filter((c) => c.running)
      .flatMap((c) =>
        c.mounts.filter((m) => !m.readOnly).map((m) => ({ unit: u.name, container: c.name, m })),
      ),
  );
  for (const u of units) {
    const others = writers.filter((w) => w.unit !== u.name);
    const who = (hits: typeof others) => [...new Set(hits.map((w) => `${w.container} (unit ${w.unit})`))];
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

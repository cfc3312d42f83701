import type { SnapshotManifest } from "../kopia/parse.ts";
import { snapshotTags } from "../kopia/parse.ts";
import { groupRestorePoints } from "../restore/points.ts";
import { type PointId, pointGroup, pointGroupOf, pointId } from "../snapshot/point-id.ts";
import { tagsProblem } from "../snapshot/validate.ts";

/**
 * Restore points as whole things to delete, pin and expire: every snapshot manifest of one unit of one
 * backup (host + unit + backup_id), incomplete ones included, with kopia's pins.
 * `restore/points.ts` reads the same tags to decide what can be restored; this view decides what goes.
 */
export interface ManagedSnapshot {
  id: string;
  /** `recipe`, `networks`, `volume`, `bind`. */
  type: string;
  /** The volume name or bind source; the type for recipe and networks. */
  label: string;
  sizeBytes: number;
  incomplete: boolean;
  pins: string[];
}

export interface ManagedPoint extends PointId {
  /** Undo points taken before a restore. */
  undo: boolean;
  snapshots: ManagedSnapshot[];
  /** Every pin on any of its snapshots. */
  pins: string[];
  /** What `restore/points.ts` offers as a complete point (every planned snapshot there, whole). */
  complete: boolean;
}

/**
 * Groups kopi-docka's snapshot manifests into points, newest first; untagged snapshots are not ours,
 * and ones whose tags are unsafe (a name or id that could be a path or a shell word) are left out:
 * their ids end up in printed commands.
 */
export function managedPoints(manifests: readonly SnapshotManifest[]): ManagedPoint[] {
  const groups = new Map<string, ManagedPoint>();
  // Complete as restore offers it: one definition of a complete point, `restore/points.ts`'s.
  const restorable = groupRestorePoints(manifests);
  const whole = new Set(
    [...restorable.points, ...restorable.undoPoints].filter((p) => p.complete).map(pointGroupOf),
  );
  for (const m of manifests) {
    const t = snapshotTags(m);
    if (!t.unit || !t.backup_id || !t.type || tagsProblem(t)) continue;
    const key = pointGroup(m, t.unit, t.backup_id);
    let p = groups.get(key);
    if (!p) {
      p = {
        ...pointId(m, t, t.unit, t.backup_id),
        undo: t.phase === "pre-restore",
        snapshots: [],
        pins: [],
        complete: whole.has(key),
      };
      groups.set(key, p);
    }
    const pins = m.pins ?? [];
    p.snapshots.push({
      id: m.id,
      type: t.type,
      label:
        t.type === "volume"
          ? (t.volume ?? "")
          : t.type === "bind"
            ? (t.bind_source ?? "")
            : t.type === "dump"
              ? (t.dump_container ?? "")
              : t.type,
      sizeBytes: m.rootEntry?.summ?.size ?? 0,
      incomplete: Boolean(m.incomplete),
      pins,
    });
    for (const pin of pins) if (!p.pins.includes(pin)) p.pins.push(pin);
  }
  return [...groups.values()].sort(
    (a, b) => b.timestamp.localeCompare(a.timestamp) || a.unit.localeCompare(b.unit),
  );
}

/**
 * The order a point's snapshots are deleted in: the recipe first. A delete cut short then leaves a
 * point without its recipe, which `restore --latest` never picks (restore/points.ts), rather than a
 * recipe that promises data no longer there.
 */
export function deletionOrder(p: ManagedPoint): string[] {
  const rank = (s: ManagedSnapshot) => (s.type === "recipe" ? 0 : s.type === "networks" ? 1 : 2);
  return [...p.snapshots].sort((a, b) => rank(a) - rank(b)).map((s) => s.id);
}

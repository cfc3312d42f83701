import { AppError, UsageError } from "../errors.ts";
import { deletionOrder, type ManagedPoint } from "./groups.ts";

/** What `--run` or `--snapshot` names: a run id, backup id or `<unit>@<backup_id>`; or one snapshot id. */
export interface PointSelector {
  run?: string;
  snapshot?: string;
}

/**
 * The points a selector names, whole: a run id names every unit's point of that run; a snapshot id
 * names the point it belongs to (a point is deleted, pinned or kept whole, never a part of it).
 */
export function selectManaged(points: readonly ManagedPoint[], sel: PointSelector): ManagedPoint[] {
  if (Boolean(sel.run) === Boolean(sel.snapshot))
    throw new UsageError(
      "name exactly one of --run ID or --snapshot ID",
      "`kopi-docka snapshots` lists them",
    );
  const found = sel.run
    ? points.filter((p) => [p.runId, p.backupId, p.key].includes(sel.run as string))
    : points.filter((p) => p.snapshots.some((s) => s.id === sel.snapshot));
  if (found.length === 0) {
    const what = sel.run ? `run ${sel.run}` : `snapshot ${sel.snapshot}`;
    throw new AppError("not_found", `no kopi-docka restore point has ${what}`, {
      hint: sel.snapshot
        ? "`kopi-docka snapshots` lists restore points; a snapshot kopi-docka did not take is `kopi-docka kopia -- snapshot delete ID --delete`"
        : "`kopi-docka snapshots` lists restore points with their RUN and BACKUP ids",
    });
  }
  return found;
}

/** What a delete removes: whole points, recipes first; pinned points refuse the delete. */
export interface DeletePlan {
  points: ManagedPoint[];
  /** In deletion order. */
  snapshotIds: string[];
}

export function planDelete(points: readonly ManagedPoint[], sel: PointSelector): DeletePlan {
  const chosen = selectManaged(points, sel);
  const pinned = chosen.filter((p) => p.pins.length > 0);
  if (pinned.length > 0) {
    throw new UsageError(
      `pinned, not deleted: ${pinned.map((p) => `${p.key} (${p.pins.join(", ")})`).join("; ")}`,
      `unpin first: kopi-docka snapshots unpin --run ${pinned[0]?.runId}`,
    );
  }
  return { points: chosen, snapshotIds: chosen.flatMap(deletionOrder) };
}

/** What `expire` does now: points every snapshot of which is past retention go, whole. */
export interface ExpirePlan {
  remove: ManagedPoint[];
  /** Points retention would split (some snapshots past it, some not): kept whole. */
  keptWhole: { key: string; pastRetention: number; snapshots: number }[];
  /** Points past retention that a pin keeps. */
  pinned: string[];
  snapshotIds: string[];
}

/**
 * Retention applied to whole points. kopia computes, per source, which snapshots its policy keeps
 * (`retentionReason` in `snapshot list --json`); a snapshot with no reason is past retention. A point
 * goes when all of its snapshots are past retention and none is pinned; a point retention would split
 * is kept whole (more kept, never a restore point left incomplete). Only this host's points.
 */
export function planExpire(points: readonly ManagedPoint[], host: string): ExpirePlan {
  const plan: ExpirePlan = { remove: [], keptWhole: [], pinned: [], snapshotIds: [] };
  for (const p of points.filter((x) => x.host === host)) {
    const past = p.snapshots.filter((s) => s.retention.length === 0);
    if (past.length === 0) continue;
    if (p.pins.length > 0) plan.pinned.push(p.key);
    else if (past.length < p.snapshots.length)
      plan.keptWhole.push({ key: p.key, pastRetention: past.length, snapshots: p.snapshots.length });
    else {
      plan.remove.push(p);
      plan.snapshotIds.push(...deletionOrder(p));
    }
  }
  return plan;
}

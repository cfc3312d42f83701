import type { RestoreContext } from "./context.ts";
import type { RestorePoint, RestorePoints } from "./points.ts";
import { readRestorePoints } from "./session.ts";

/** Which restore points `snapshots` lists; an absent field matches every point. */
export interface PointFilter {
  unit?: string;
  host?: string;
}

/** The restore and undo points that match `filter`, in the order read (newest first). */
export function selectPoints(all: RestorePoints, filter: PointFilter): RestorePoints {
  const keep = (p: RestorePoint) =>
    (!filter.unit || p.unit === filter.unit) && (!filter.host || p.host === filter.host);
  return { ...all, points: all.points.filter(keep), undoPoints: all.undoPoints.filter(keep) };
}

/** Reads the repository's restore points (never creating a repository) and keeps those that match. */
export async function listRestorePoints(ctx: RestoreContext, filter: PointFilter): Promise<RestorePoints> {
  return selectPoints(await readRestorePoints(ctx), filter);
}

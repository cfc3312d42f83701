import type { SnapshotManifest } from "../kopia/parse.ts";

/**
 * What names a point: one unit of one backup (`unit` + `backup_id`) on one host. Both views of points
 * (`restore/points.ts`: what can be restored; `restore-points/groups.ts`: what can go) read it alike.
 */
export interface PointId {
  /** `<unit>@<backup_id>`, as `snapshots` and `restore --run` name it. */
  key: string;
  unit: string;
  host: string;
  backupId: string;
  runId: string;
  /** ISO-8601 UTC, from the `timestamp` tag (kopia's start time when missing). */
  timestamp: string;
}

/** The map key snapshots of one point share (the host is part of it: hosts may share a repository). */
export function pointGroup(m: SnapshotManifest, unit: string, backupId: string): string {
  return pointGroupOf({ host: m.source.host, unit, backupId });
}

/** The same key, of a point already grouped. */
export function pointGroupOf(p: Pick<PointId, "host" | "unit" | "backupId">): string {
  return `${p.host}\u0000${p.unit}\u0000${p.backupId}`;
}

/** The point `m` belongs to, from its tags `t` (whose `unit` and `backup_id` the caller checked). */
export function pointId(
  m: SnapshotManifest,
  t: Readonly<Record<string, string>>,
  unit: string,
  backupId: string,
): PointId {
  return {
    key: `${unit}@${backupId}`,
    unit,
    host: m.source.host,
    backupId,
    runId: t.run_id ?? backupId,
    timestamp: t.timestamp ?? m.startTime,
  };
}

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
    timestamp: pointTime(t.timestamp, m.startTime),
  };
}

/** How much later than kopia's own start time a snapshot's `timestamp` tag may say it was taken. */
const TAG_SLACK_MS = 5 * 60_000;

/**
 * The `timestamp` tag, when it is a date no later than the snapshot itself started (a backup tags
 * its run's start): an untrusted tag that is not a date would stop retention for every unit, and
 * one in the future would make its point the latest for good. Otherwise kopia's start time.
 */
export function pointTime(tag: string | undefined, startTime: string): string {
  const at = tag === undefined ? Number.NaN : Date.parse(tag);
  if (!Number.isFinite(at) || !/^\d{4}-\d\d-\d\dT/.test(tag ?? "")) return startTime;
  const started = Date.parse(startTime);
  return Number.isFinite(started) && at > started + TAG_SLACK_MS ? startTime : (tag as string);
}

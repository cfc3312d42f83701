import type { SnapshotManifest } from "../kopia/parse.ts";
import { isSnapshotId, snapshotTags } from "../kopia/parse.ts";
import { type PointId, pointGroup, pointId } from "../snapshot/point-id.ts";
import { tagsProblem } from "../snapshot/validate.ts";

/**
 * Restore points, read from snapshot tags alone. One point is one unit of one backup (`unit` +
 * `backup_id`; every snapshot of a unit in a run shares them), never a time window. Snapshots kopia
 * marked `incomplete` are never offered; a point that had one is shown as incomplete, as is one with
 * a snapshot missing entries kopia could not read.
 */
export interface SnapshotRef {
  id: string;
  sizeBytes: number;
  files: number;
}

/** `key` (`<unit>@<backup_id>`) is what `--run` and the wizard select. */
export interface RestorePoint extends PointId {
  scope: string;
  /** Set on undo points, which restore takes before overwriting anything. */
  phase?: "pre-restore";
  recipe?: SnapshotRef;
  networks?: SnapshotRef;
  volumes: (SnapshotRef & { name: string })[];
  binds: (SnapshotRef & { source: string; destination?: string })[];
  /** Database dumps (`mode = "dump"`): `object` is the stored file (`<root object>/<file>`, for `kopia show`). */
  dumps?: (SnapshotRef & { container: string; object: string; preset?: string })[];
  sizeBytes: number;
  complete: boolean;
  /** Why the point is not complete. */
  problems: string[];
  /** kopia pins on its snapshots (`snapshots pin`): a pinned point is never deleted or expired. */
  pins?: string[];
}

export interface RestorePoints {
  points: RestorePoint[];
  /** Undo points (`phase:pre-restore`), listed apart from backups. */
  undoPoints: RestorePoint[];
  /** Snapshots whose tags are unsafe to act on (a bad name or path): never offered, each with why. */
  rejected?: { id: string; reason: string }[];
}

/** Groups snapshot manifests into restore points, newest first. Pure. */
export function groupRestorePoints(manifests: readonly SnapshotManifest[]): RestorePoints {
  const groups = new Map<string, RestorePoint>();
  const present = new Map<RestorePoint, { expected: number; sources: Set<string> }>();
  const rejected: { id: string; reason: string }[] = [];
  for (const m of manifests) {
    const t = snapshotTags(m);
    if (!t.unit || !t.backup_id || !t.type) continue;
    const bad = tagsProblem(t);
    if (bad) {
      rejected.push({ id: m.id, reason: bad });
      continue;
    }
    const key = pointGroup(m, t.unit, t.backup_id);
    let p = groups.get(key);
    if (!p) {
      p = {
        ...pointId(m, t, t.unit, t.backup_id),
        scope: t.backup_scope ?? "unknown",
        ...(t.phase === "pre-restore" ? { phase: "pre-restore" as const } : {}),
        volumes: [],
        binds: [],
        sizeBytes: 0,
        complete: true,
        problems: [],
      };
      groups.set(key, p);
      present.set(p, { expected: 0, sources: new Set() });
    }
    const count = present.get(p);
    if (count && t.source_count) count.expected = Math.max(count.expected, Number(t.source_count) || 0);
    // The id goes into kopia's argv (`snapshot restore <id>`): one shaped like a flag is never used.
    if (!isSnapshotId(m.id)) {
      p.complete = false;
      p.problems.push(
        `${describe(t)} snapshot ${JSON.stringify(m.id.slice(0, 80))} has no valid id; not offered`,
      );
      continue;
    }
    if (m.incomplete) {
      p.complete = false;
      p.problems.push(`${describe(t)} snapshot ${m.id} is incomplete (${m.incomplete}); not offered`);
      continue;
    }
    // kopia saves a snapshot even when it could not read some entries (the backup reported the
    // source failed): the data is there but not all of it, so the point is not a whole one.
    const failed = m.rootEntry?.summ?.numFailed ?? 0;
    if (failed > 0) {
      p.complete = false;
      // The paths kopia names are the data's (untrusted): the run's record has them, not this line.
      p.problems.push(
        `${describe(t)} snapshot ${m.id} lacks ${failed} entr${failed === 1 ? "y" : "ies"} kopia could not read`,
      );
    }
    addSnapshot(p, t, m);
    count?.sources.add(describe(t));
  }
  const all = [...groups.values()];
  for (const p of all) {
    const count = present.get(p);
    // Older backups carry no source_count; for them only the recipe check below applies.
    if (count && count.sources.size < count.expected) {
      p.complete = false;
      p.problems.push(`${count.sources.size} of ${count.expected} planned snapshots are in the repository`);
    }
    if (!p.phase && p.scope !== "minimal" && !p.recipe) {
      p.complete = false;
      p.problems.push("no recipe snapshot");
    }
  }
  all.sort((a, b) => b.timestamp.localeCompare(a.timestamp) || a.unit.localeCompare(b.unit));
  return {
    points: all.filter((p) => !p.phase),
    undoPoints: all.filter((p) => p.phase),
    ...(rejected.length ? { rejected } : {}),
  };
}

function addSnapshot(p: RestorePoint, t: Record<string, string>, m: SnapshotManifest): void {
  for (const pin of m.pins ?? []) if (!p.pins?.includes(pin)) p.pins = [...(p.pins ?? []), pin];
  const ref: SnapshotRef = {
    id: m.id,
    sizeBytes: m.rootEntry?.summ?.size ?? Number(t.size_bytes ?? 0),
    files: m.rootEntry?.summ?.files ?? 0,
  };
  p.sizeBytes += ref.sizeBytes;
  // Two snapshots of one thing in one backup (a retry): the newest wins.
  switch (t.type) {
    case "recipe":
      p.recipe = ref;
      break;
    case "networks":
      p.networks = ref;
      break;
    case "volume":
      p.volumes = [...p.volumes.filter((v) => v.name !== t.volume), { ...ref, name: t.volume ?? "" }];
      break;
    case "dump": {
      const root = m.rootEntry?.obj ?? "";
      // The object id comes from the repository: only kopia's id characters may reach its argv.
      if (!/^[A-Za-z0-9]+$/.test(root)) break;
      const dump = {
        ...ref,
        container: t.dump_container ?? "",
        object: `${root}/${t.dump_file}`,
        ...(t.dump_preset ? { preset: t.dump_preset } : {}),
      };
      p.dumps = [...(p.dumps ?? []).filter((d) => d.container !== dump.container), dump];
      break;
    }
    case "bind":
      p.binds = [
        ...p.binds.filter((b) => b.source !== t.bind_source),
        { ...ref, source: t.bind_source ?? "", destination: t.bind_destination },
      ];
      break;
  }
}

function describe(t: Record<string, string>): string {
  if (t.type === "volume") return `volume ${t.volume}`;
  if (t.type === "bind") return `bind ${t.bind_source}`;
  if (t.type === "dump") return `dump ${t.dump_container}`;
  return t.type ?? "unknown";
}

/** The distinct hosts that have restore points, this host first. */
export function pointHosts(points: readonly RestorePoint[], thisHost: string): string[] {
  const hosts = [...new Set(points.map((p) => p.host))].sort();
  return hosts.includes(thisHost) ? [thisHost, ...hosts.filter((h) => h !== thisHost)] : hosts;
}

/** Marks a point incomplete when the recipe lists a volume, bind or networks that has no snapshot. */
export function checkAgainstRecipe(
  p: RestorePoint,
  listed: { volumes: string[]; binds: string[]; networks?: boolean },
): RestorePoint {
  const problems = [
    ...listed.volumes.filter((v) => !p.volumes.some((s) => s.name === v)).map((v) => `volume ${v} missing`),
    ...listed.binds.filter((b) => !p.binds.some((s) => s.source === b)).map((b) => `bind ${b} missing`),
    ...(listed.networks && !p.networks ? ["networks missing"] : []),
  ];
  return problems.length ? { ...p, complete: false, problems: [...p.problems, ...problems] } : p;
}

/** A restore of an older point while newer ones failed should not surprise anyone: name them. */
export function newerIncomplete(point: RestorePoint, points: RestorePoints): string[] {
  if (point.phase) return [];
  return points.points
    .filter(
      (p) => p.unit === point.unit && p.host === point.host && !p.complete && p.timestamp > point.timestamp,
    )
    .map(
      (p) =>
        `a newer point, ${p.key} (${p.timestamp}), is incomplete and was passed over: ${p.problems.join("; ")}`,
    );
}

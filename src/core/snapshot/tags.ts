/**
 * The snapshot tag schema. Every snapshot kopi-docka writes carries these tags (kopia stores them as
 * `tag:<key>`); restore finds and groups restore points by them alone. Names stay compatible with the
 * Python Kopi-Docka where it had them. Never rename a key: old snapshots keep the old names.
 */
export const SNAPSHOT_TYPES = ["recipe", "networks", "volume", "bind", "docker_config", "dump"] as const;
export type SnapshotType = (typeof SNAPSHOT_TYPES)[number];

/**
 * The `backup_format` tag: how the snapshot's data was laid out when written. "direct": the source was
 * read straight from the host path. A reader refuses a format it does not know rather than guess.
 */
export const BACKUP_FORMAT = "direct";

export interface SnapshotTags {
  type: SnapshotType;
  unit: string;
  /** One id per unit per run. */
  backup_id: string;
  /** One id per run, shared by all units of the run. */
  run_id: string;
  backup_scope: "minimal" | "standard" | "full";
  /** ISO-8601 UTC start of the unit's backup; identical on every snapshot of the unit. */
  timestamp: string;
  backup_format: typeof BACKUP_FORMAT;
  kopi_docka_version: string;
  /** type=volume */
  volume?: string;
  /** type=bind */
  bind_source?: string;
  bind_destination?: string;
  read_only?: "true" | "false";
  /** type=dump: the container whose database was dumped (its name at backup time). */
  dump_container?: string;
  /** type=dump: the one file inside the snapshot holding the stream. */
  dump_file?: string;
  /** type=dump: the preset that made it, when one did (restore may use its restore command). */
  dump_preset?: string;
  /** type=networks */
  network_count?: string;
  size_bytes?: string;
  /**
   * How many snapshots the unit's backup planned (recipe, networks, volumes, binds…), on every one of
   * them: a point with fewer (a source that failed) is incomplete even though its recipe exists.
   */
  source_count?: string;
  /** Set on undo points that restore takes before overwriting anything. */
  phase?: "pre-restore";
}

/** The logical path each snapshot is recorded under (`--override-source`), stable across runs. */
export function logicalSourcePath(
  tags: Pick<SnapshotTags, "type" | "unit" | "volume" | "bind_source" | "dump_container">,
): string {
  const unit = encodeURIComponent(tags.unit);
  switch (tags.type) {
    case "dump":
      return `/kopi-docka/${unit}/dumps/${encodeURIComponent(tags.dump_container ?? "")}`;
    case "volume":
      return `/kopi-docka/${unit}/volumes/${encodeURIComponent(tags.volume ?? "")}`;
    case "bind":
      return `/kopi-docka/${unit}/binds${tags.bind_source ?? ""}`;
    default:
      return `/kopi-docka/${unit}/${tags.type}`;
  }
}

/** Where an undo point is recorded: beside the unit's backups, never counted in their retention. */
export function undoSourcePath(
  tags: Pick<SnapshotTags, "type" | "unit" | "volume" | "bind_source" | "dump_container">,
): string {
  return logicalSourcePath(tags).replace(/^\/kopi-docka\/[^/]+/, (m) => `${m}/pre-restore`);
}

/** One restore's undo point: its run, its time, and how many snapshots make it whole. */
export interface UndoRun {
  runId: string;
  timestamp: string;
  count: number;
}

/**
 * The tags of an undo point (`phase:pre-restore`) taken by restore run `runId`; `what` names its
 * source. `source_count`: a restore stopped between two of its snapshots leaves a point shown incomplete.
 */
export function undoPointTags(
  o: UndoRun & { unit: string; version: string },
  what: Pick<SnapshotTags, "type"> & Partial<SnapshotTags>,
): SnapshotTags {
  return {
    unit: o.unit,
    backup_id: o.runId,
    run_id: o.runId,
    backup_scope: "minimal",
    timestamp: o.timestamp,
    backup_format: BACKUP_FORMAT,
    kopi_docka_version: o.version,
    phase: "pre-restore",
    source_count: String(o.count),
    ...what,
  };
}

/** `<user>@<host>:<path>`: kopia's source identity of one snapshot (`--override-source`). */
export function sourceIdentity(user: string, host: string, path: string): string {
  return `${user}@${host}:${path}`;
}

/** Tags as kopia takes them (`--tags k:v`): the fields that are set, all strings. */
export function tagStrings(tags: SnapshotTags): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(tags)) if (typeof v === "string") out[k] = v;
  return out;
}

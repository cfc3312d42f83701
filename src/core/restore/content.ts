import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { logicalSourcePath, type SnapshotTags } from "../backup/tags.ts";
import type { Docker } from "../docker/docker.ts";
import { AppError } from "../errors.ts";
import { formatBytes, formatDuration } from "../format.ts";
import type { Kopia } from "../kopia/kopia.ts";
import type { Logger } from "../log.ts";
import type { ContentProgress, RestoredSoFar } from "./context.ts";
import type { RestorePoint } from "./points.ts";
import { type LoadedRecipe, readRecipe } from "./recipe.ts";
import type { BindStep, RestorePlan, VolumeStep } from "./types.ts";

export interface ContentContext {
  docker: Docker;
  kopia: Kopia;
  log: Logger;
  signal: AbortSignal;
  hostname: string;
  version: string;
  progress?: ContentProgress;
}

/** Restores the point's recipe (and networks) snapshots into `dir` and reads them. */
export async function loadRecipe(
  kopia: Kopia,
  point: RestorePoint,
  dir: string,
  signal?: AbortSignal,
): Promise<LoadedRecipe | undefined> {
  if (!point.recipe) return undefined;
  await kopia.snapshotRestore(point.recipe.id, join(dir, "recipe"), { signal });
  if (point.networks) await kopia.snapshotRestore(point.networks.id, join(dir, "networks"), { signal });
  return readRecipe(join(dir, "recipe"), point.networks ? join(dir, "networks") : undefined);
}

/**
 * The undo point: a snapshot of what is there now, tagged `phase:pre-restore`, under its own
 * source path so it never counts against the backups' retention. Refuses to go on without one.
 */
export async function takeUndoSnapshot(
  c: ContentContext,
  plan: RestorePlan,
  item: RestorePlan["undo"][number],
  runId: string,
  timestamp: string,
): Promise<string> {
  const tags: SnapshotTags = {
    type: item.kind,
    unit: plan.point.unit,
    backup_id: runId,
    run_id: runId,
    backup_scope: "minimal",
    timestamp,
    backup_format: "direct",
    kopi_docka_version: c.version,
    phase: "pre-restore",
    ...(item.kind === "volume" ? { volume: item.name } : { bind_source: item.path }),
  };
  const path = logicalSourcePath(tags).replace(/^\/kopi-docka\/[^/]+/, (m) => `${m}/pre-restore`);
  const m = await c.kopia.snapshotCreate(item.path, {
    overrideSource: `kopi-docka@${c.hostname}:${path}`,
    tags: tags as unknown as Record<string, string>,
    description: `kopi-docka undo point before restore ${runId}`,
    signal: c.signal,
  });
  if (m.incomplete || (m.rootEntry?.summ?.numFailed ?? 0) > 0) {
    throw new AppError("restore_failed", `the undo snapshot of ${item.kind} ${item.name} failed`, {
      hint: "nothing was overwritten; see kopia's log in the cache dir",
    });
  }
  c.log.info(`undo point for ${item.kind} ${item.name}: snapshot ${m.id}`);
  return m.id;
}

/** Creates a missing volume with its original driver, options and labels, then restores it exactly. */
export async function restoreVolume(c: ContentContext, v: VolumeStep): Promise<void> {
  if (v.action === "create") await c.docker.volumeCreate(v);
  const mountpoint = await c.docker.volumeMountpoint(v.name);
  if (!mountpoint.startsWith("/"))
    throw new AppError("restore_failed", `volume ${v.name} has no local mountpoint (driver ${v.driver})`);
  await restoreInto(c, `volume ${v.name}`, v.snapshotId, mountpoint, v);
}

/** Restores a bind mount's directory exactly (extra files removed), or its single file. */
export async function restoreBind(c: ContentContext, b: BindStep): Promise<void> {
  mkdirSync(b.kind === "file" ? dirname(b.path) : b.path, { recursive: true });
  await restoreInto(c, `bind ${b.path}`, b.snapshotId, b.path, b, b.kind === "directory");
}

async function restoreInto(
  c: ContentContext,
  what: string,
  id: string,
  target: string,
  size: { sizeBytes: number; files: number },
  deleteExtra = true,
): Promise<void> {
  c.log.info(`${what}: restoring ${formatBytes(size.sizeBytes)} in ${size.files} files`);
  const started = performance.now();
  let summary = "";
  const bar = c.progress?.(what, size);
  try {
    await c.kopia.snapshotRestore(id, target, {
      deleteExtra,
      signal: c.signal,
      ...(bar ? { onProgress: (p: RestoredSoFar) => bar.update(p) } : {}),
      onStderrLine: (l) => {
        if (l.startsWith("Restored ")) summary = l.trim();
      },
    });
  } catch (e) {
    bar?.finish("failed");
    throw e;
  }
  bar?.finish("ok");
  // A live line left standing already says it all.
  if (bar?.standing) return;
  const took = formatDuration(performance.now() - started);
  c.log.info(`${what}: done in ${took}${summary ? ` (${summary.replace(/\.$/, "")})` : ""}`);
}

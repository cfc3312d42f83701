import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { type BindFilterConfig, isAtOrUnder } from "../discovery/bind-filter.ts";
import { volumeData, volumeFacts } from "../discovery/volume-data.ts";
import type { Docker } from "../docker/docker.ts";
import { AppError } from "../errors.ts";
import { formatBytes, formatDuration } from "../format.ts";
import { inPlaceOnlyFailure } from "../kopia/errors.ts";
import type { Kopia } from "../kopia/kopia.ts";
import { parseRestoredSummary } from "../kopia/progress.ts";
import type { Logger } from "../log.ts";
import { symlinkAtOrAbove } from "../safe-paths.ts";
import { sourceIdentity, tagStrings, type UndoRun, undoPointTags, undoSourcePath } from "../snapshot/tags.ts";
import type { ContentProgress, RestoredSoFar } from "./context.ts";
import type { RestorePoint } from "./points.ts";
import { type LoadedRecipe, readRecipe } from "./recipe.ts";
import { emptyAndPrivate, isMountPoint, swapIn } from "./swap-in.ts";
import type { BindStep, RestorePlan, VolumeStep } from "./types.ts";

export interface ContentContext {
  docker: Docker;
  kopia: Kopia;
  log: Logger;
  signal: AbortSignal;
  hostname: string;
  version: string;
  progress?: ContentProgress;
  /** Host-internal paths a bind volume's device may not be (restore never writes there). */
  config?: { backup: BindFilterConfig };
  /** Told when kopia restored fewer files than the snapshot holds (names it changed collided). */
  onFewerFiles?: (message: string) => void;
  /** The restart journal's directory, where a stage beside a target is recorded (`stages.ts`). */
  paths?: { journalDir: string };
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
  const recipe = readRecipe(join(dir, "recipe"), point.networks ? join(dir, "networks") : undefined);
  if (recipe.unit.unit !== point.unit) {
    throw new AppError(
      "restore_failed",
      `the recipe of ${point.key} describes unit ${recipe.unit.unit}, not ${point.unit}; refused`,
      { hint: "nothing was changed; the snapshot was not written by kopi-docka or was altered" },
    );
  }
  return recipe;
}

/**
 * The undo point: a snapshot of what is there now, tagged `phase:pre-restore`, under its own
 * source path so it never counts against the backups' retention. Refuses to go on without one.
 */
export async function takeUndoSnapshot(
  c: ContentContext,
  plan: RestorePlan,
  item: RestorePlan["undo"][number],
  run: UndoRun,
): Promise<string> {
  const { runId } = run;
  const tags = undoPointTags(
    { ...run, unit: plan.point.unit, version: c.version },
    { type: item.kind, ...(item.kind === "volume" ? { volume: item.name } : { bind_source: item.path }) },
  );
  const m = await c.kopia.snapshotCreate(item.path, {
    overrideSource: sourceIdentity(c.kopia.options.username, c.hostname, undoSourcePath(tags)),
    tags: tagStrings(tags),
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

/**
 * Refuses a write at `path` through a symlink that data restored earlier in this run put there: the
 * plan checked every path for links before anything was written, but a bind (or device) nested in
 * another comes back after it, and the outer one's data may hold `b -> /etc`. `written`: the targets
 * restored so far; each is trusted as a root, nothing below it on the way to `path`.
 */
export function refuseLinkPlanted(what: string, path: string, written: readonly string[]): void {
  for (const root of written) {
    if (path === root || !isAtOrUnder(path, root)) continue;
    const link = symlinkAtOrAbove(path, root);
    if (link)
      throw new AppError(
        "restore_failed",
        `${what}: ${link.link} is a symlink to ${link.to}, restored with ${root} just now: not written through`,
        {
          hint: "the data of one restored path puts a link on the way to another; restore them one at a time, or as a copy (--as)",
        },
      );
  }
}

/** Creates a missing volume with its original driver, options and labels, then restores it exactly. */
export async function restoreVolume(
  c: ContentContext,
  v: VolumeStep,
  written: readonly string[] = [],
): Promise<string | undefined> {
  if (v.action === "create") await c.docker.volumeCreate(v);
  // The live volume decides where its data goes (never the recipe's options): a bind volume's data
  // lives in its device directory, which Docker mounts over the mountpoint only while in use.
  const [live] = await c.docker.volumeInspect([v.name]);
  if (!live) throw new AppError("restore_failed", `volume ${v.name} does not exist`);
  const data = volumeData(volumeFacts(live), c.config?.backup);
  if (data.kind === "not_protected")
    throw new AppError(
      "restore_failed",
      `volume ${v.name} cannot be restored from this host: ${data.reason}`,
    );
  if (!data.path.startsWith("/"))
    throw new AppError("restore_failed", `volume ${v.name} has no local mountpoint (driver ${v.driver})`);
  if (data.kind === "device") {
    refuseLinkPlanted(`volume ${v.name}`, data.path, written);
    mkdirSync(data.path, { recursive: true });
  }
  await restoreInPlace(c, `volume ${v.name}`, v.snapshotId, data.path, v);
  return data.kind === "device" ? data.path : undefined;
}

/**
 * Restores a bind mount's directory exactly, or its single file: into a fresh sibling first, then
 * renamed into place (`swapIn`), so whatever is at the path (a symlink too) is replaced, never written
 * through. A directory that is a mount point cannot be renamed: it is restored in place.
 */
export async function restoreBind(
  c: ContentContext,
  b: BindStep,
  written: readonly string[] = [],
): Promise<string> {
  const target = b.realPath ?? b.path;
  const parent = dirname(target);
  // Its own path may be a link now: it is renamed away, never written through; its directories not.
  refuseLinkPlanted(`bind ${b.path}`, parent, written);
  mkdirSync(parent, { recursive: true });
  const what = `bind ${b.path}`;
  if (b.kind === "directory" && isMountPoint(target)) {
    await restoreInPlace(c, what, b.snapshotId, target, b);
    return target;
  }
  await swapIn(
    what,
    target,
    (fresh) => restoreInto(c, what, b.snapshotId, fresh, b, { deleteExtra: false, intoEmpty: true }),
    c.paths?.journalDir,
  );
  return target;
}

/**
 * Restores into existing data, exactly (`--delete-extra` replaces symlinks inside it instead of
 * following them). Files go through kopia's atomic temp names, whose extra digits make a name over
 * 245 bytes fail, and kopia puts no symlink where a file is: then the whole source is restored again
 * beside it and swapped in. An empty private directory (a volume just created) is written directly:
 * every name fits, sparse files stay sparse.
 */
async function restoreInPlace(
  c: ContentContext,
  what: string,
  id: string,
  target: string,
  size: { sizeBytes: number; files: number },
): Promise<void> {
  if (emptyAndPrivate(target))
    return restoreInto(c, what, id, target, size, { deleteExtra: true, intoEmpty: true });
  try {
    await restoreInto(c, what, id, target, size, { deleteExtra: true });
  } catch (e) {
    const why = inPlaceOnlyFailure(e);
    if (!why) throw e;
    c.log.warn(
      `${what}: kopia cannot restore it over the data there (${why}); restoring it again into a new directory beside it, then renamed into place (it needs room for a second copy)`,
    );
    await swapIn(
      what,
      target,
      (fresh) => restoreInto(c, what, id, fresh, size, { intoEmpty: true }),
      c.paths?.journalDir,
    );
  }
}

async function restoreInto(
  c: ContentContext,
  what: string,
  id: string,
  target: string,
  size: { sizeBytes: number; files: number },
  how: { deleteExtra?: boolean; intoEmpty?: boolean },
): Promise<void> {
  c.log.info(`${what}: restoring ${formatBytes(size.sizeBytes)} in ${size.files} files`);
  const started = performance.now();
  let summary = "";
  const bar = c.progress?.(what, size);
  try {
    await c.kopia.snapshotRestore(id, target, {
      ...how,
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
  checkFileCount(c, what, size.files, summary);
  // A live line left standing already says it all.
  if (bar?.standing) return;
  const took = formatDuration(performance.now() - started);
  c.log.info(`${what}: done in ${took}${summary ? ` (${summary.replace(/\.$/, "")})` : ""}`);
}

/**
 * kopia keeps names as JSON strings: bytes that are not UTF-8 become U+FFFD, so two names that differ
 * only there are one name on restore and one of the files is gone, while kopia exits 0.
 */
function checkFileCount(c: ContentContext, what: string, planned: number, summary: string): void {
  const restored = parseRestoredSummary(summary)?.files;
  if (restored === undefined || restored >= planned) return;
  const message = `${what}: kopia restored ${restored} of the ${planned} files the snapshot holds; names that are not valid UTF-8 were changed and ${planned - restored} collided with another`;
  c.log.warn(message);
  c.onFewerFiles?.(message);
}

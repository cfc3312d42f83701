import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { healFailure, recoverIfNeeded } from "../containers/recover.ts";
import { AppError } from "../errors.ts";
import { acquireLock } from "../lock/acquire.ts";
import { openRepository } from "../repository/open.ts";
import { PRIORITY } from "../safe-exit.ts";
import { loadRecipe } from "./content.ts";
import type { RestoreContext } from "./context.ts";
import { executeRestore } from "./execute.ts";
import { fileStamp } from "./files.ts";
import { planRestore } from "./plan.ts";
import { groupRestorePoints, type RestorePoint, type RestorePoints } from "./points.ts";
import type { LoadedRecipe } from "./recipe.ts";
import type { RestoreResult } from "./result.ts";
import { readCurrentState } from "./state.ts";
import type { RestorePlan, RestoreRequest } from "./types.ts";

/**
 * Connects to the configured repository without ever creating one (a restore from a wrong path must
 * say so, not start an empty repository), then reads every restore point in it.
 */
export async function readRestorePoints(ctx: RestoreContext): Promise<RestorePoints> {
  await openRepository(ctx, "connect");
  const points = groupRestorePoints(await ctx.kopia.snapshotList({ signal: ctx.lifecycle.signal }));
  for (const r of points.rejected ?? []) ctx.log.warn(`snapshot ${r.id} is never restored: ${r.reason}`);
  return points;
}

export interface PreparedRestore {
  plan: RestorePlan;
  runId: string;
  tempDir: string;
  now: Date;
  point: RestorePoint;
  recipe: LoadedRecipe | undefined;
}

/** A restore run id: `restore-<UTC stamp>-<random>`, also the undo point's run id. */
export function newRestoreRunId(now: Date): string {
  return `restore-${fileStamp(now)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Reads the point's recipe into a temp dir (removed by a cleanup compensation), looks at this host,
 * and plans. Changes nothing outside the temp dir.
 */
export async function prepareRestore(
  ctx: RestoreContext,
  request: RestoreRequest,
  points: RestorePoints,
  now = new Date(),
): Promise<PreparedRestore> {
  const point = [...points.points, ...points.undoPoints].find(
    (p) => p.key === request.point && p.host === request.host,
  );
  if (!point) throw new AppError("not_found", `no restore point ${request.point} from ${request.host}`);
  const runId = newRestoreRunId(now);
  const tempDir = join(ctx.paths.cacheDir, "restore", runId);
  mkdirSync(tempDir, { recursive: true, mode: 0o700 });
  ctx.lifecycle.register(`remove ${tempDir}`, PRIORITY.cleanup, () =>
    rmSync(tempDir, { recursive: true, force: true }),
  );
  const recipe = await loadRecipe(ctx.kopia, point, tempDir, ctx.lifecycle.signal);
  const state = await readCurrentState(ctx.docker, ctx.config, request, point, recipe, journalOf(ctx));
  return { plan: planRestore(request, points, state), runId, tempDir, now, point, recipe };
}

/**
 * Takes the host-wide lock, starts what a dead run left stopped (so its containers count as running
 * when deciding what to stop), plans again from what runs now, and executes.
 */
export async function runRestore(
  ctx: RestoreContext,
  ready: PreparedRestore,
  points: RestorePoints,
  version: string,
): Promise<RestoreResult> {
  const lock = await acquireLock(ctx.paths.lockFile, {
    runId: ready.runId,
    command: "restore",
    signal: ctx.lifecycle.signal,
    log: ctx.log,
  });
  try {
    const heal = await recoverIfNeeded(ctx, lock.tookOverFrom);
    // Planned again under the lock: the plan shown may be minutes old (a prompt), and what runs now
    // decides what must be stopped (a container started since, one a backup's cold window had stopped,
    // one the heal just started). Never fewer stops than needed: always the fresh plan.
    const state = await readCurrentState(
      ctx.docker,
      ctx.config,
      ready.plan.request,
      ready.point,
      ready.recipe,
      journalOf(ctx),
    );
    // The point too: a backup's retention or a delete may have removed it while a prompt was open.
    const now = groupRestorePoints(await ctx.kopia.snapshotList({ signal: ctx.lifecycle.signal }));
    if (snapshotsOf(ready.plan.request, now) !== snapshotsOf(ready.plan.request, points))
      throw new AppError(
        "check_failed",
        `restore point ${ready.plan.request.point} changed since it was chosen (deleted, expired or pinned meanwhile); nothing was changed`,
        { hint: "run the restore again to see what it restores now" },
      );
    const plan = planRestore(ready.plan.request, now, state);
    const added = plan.stop.filter((c) => !ready.plan.stop.some((x) => x.id === c.id)).map((c) => c.name);
    if (added.length) ctx.log.warn(`running now, so stopped for the restore as well: ${added.join(", ")}`);
    return withHealFailures(await executeRestore({ ...ctx, version }, plan, ready), heal?.failed ?? []);
  } finally {
    lock.release();
  }
}

/** Where the plan reads which containers an interrupted restore holds. */
const journalOf = (ctx: RestoreContext) => ({
  dir: ctx.paths.journalDir,
  warn: (m: string) => ctx.log.warn(m),
});

/** The snapshot ids of the requested point, as one string ("" when it is not there). */
function snapshotsOf(request: RestoreRequest, points: RestorePoints): string {
  const p = [...points.points, ...points.undoPoints].find(
    (x) => x.key === request.point && x.host === request.host,
  );
  if (!p) return "";
  const ids = [p.recipe, p.networks, ...p.volumes, ...p.binds, ...(p.dumps ?? [])].flatMap((r) =>
    r ? [r.id] : [],
  );
  return ids.sort().join(",");
}

/**
 * A container a killed run left stopped, which the heal before the restore could not start, is still
 * down after it: the result names it (`restartFailed`), so the command ends `restart_failed` (exit 4)
 * however the restore went, as a backup does (`backup/heal.ts`).
 */
function withHealFailures(result: RestoreResult, failed: { name: string; reason: string }[]): RestoreResult {
  if (failed.length === 0) return result;
  return {
    ...result,
    restartFailed: [...(result.restartFailed ?? []), ...failed.map((f) => f.name)],
    warnings: [...result.warnings, ...failed.map(healFailure)],
  };
}

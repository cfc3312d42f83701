import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { AppContext } from "../../commands/_context.ts";
import { AppError } from "../errors.ts";
import { ensureRepository, filesystemRepositoryExists } from "../kopia/repository.ts";
import { PRIORITY } from "../safe-exit.ts";
import { loadRecipe } from "./content.ts";
import { fileStamp } from "./files.ts";
import { planRestore } from "./plan.ts";
import { groupRestorePoints, type RestorePoints } from "./points.ts";
import { readCurrentState } from "./state.ts";
import type { RestorePlan, RestoreRequest } from "./types.ts";

/**
 * Connects to the configured repository without ever creating one (a restore from a wrong path must
 * say so, not start an empty repository), then reads every restore point in it.
 */
export async function readRestorePoints(ctx: AppContext): Promise<RestorePoints> {
  const repo = ctx.config.repository;
  if (repo.backend === "filesystem" && !filesystemRepositoryExists(repo.path)) {
    throw new AppError("repository", `there is no kopia repository at ${repo.path}`, {
      hint: "check [repository] path in the config",
    });
  }
  await ensureRepository(ctx.kopia, repo, ctx.log);
  return groupRestorePoints(await ctx.kopia.snapshotList({ signal: ctx.lifecycle.signal }));
}

export interface PreparedRestore {
  plan: RestorePlan;
  runId: string;
  tempDir: string;
  now: Date;
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
  ctx: AppContext,
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
  const state = await readCurrentState(ctx.docker, ctx.config, request, point, recipe);
  return { plan: planRestore(request, points, state), runId, tempDir, now };
}

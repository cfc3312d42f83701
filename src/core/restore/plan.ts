import { AppError } from "../errors.ts";
import { pathUnder } from "../safe-paths.ts";
import { PROJECT_LABEL, renamer } from "./names.ts";
import { planStart } from "./plan-start.ts";
import {
  missingFromPoint,
  planBinds,
  planFiles,
  planNetworks,
  planVolumes,
  secretVolumeRefusals,
} from "./plan-steps.ts";
import type { RestorePoint, RestorePoints } from "./points.ts";
import type { LoadedRecipe } from "./recipe.ts";
import { pathRefusals } from "./safety.ts";
import type { CurrentState, RestorePlan, RestoreRequest } from "./types.ts";

/**
 * Turns a request into the exact list of things a restore does. Pure: no I/O, no clock. Throws
 * AppError("not_found") when the point or a requested volume is not there. What would make the
 * restore unsafe (a network it may not replace, a container it cannot start) goes to `refusals`,
 * which `--dry-run` shows and the executor refuses before changing anything.
 */
export function planRestore(
  request: RestoreRequest,
  points: RestorePoints,
  state: CurrentState,
): RestorePlan {
  const point = [...points.points, ...points.undoPoints].find(
    (p) => p.key === request.point && p.host === request.host,
  );
  if (!point) throw new AppError("not_found", `no restore point ${request.point} from host ${request.host}`);
  const recipe = state.recipe;
  const warnings = [...point.problems, ...newerIncomplete(point, points)];
  const project = request.as ?? projectOf(recipe) ?? point.unit;
  const targetDir = request.targetDir ?? pathUnder(state.restoreDir, request.as ?? point.unit);
  const names = renamer(request.as, targetDir);
  const wants = (k: "volumes" | "binds" | "recipe") => request.what === "all" || request.what === k;

  const chosen = request.volumes?.length ? request.volumes : undefined;
  const volumes = wants("volumes") ? planVolumes(point, recipe, state, chosen, names) : [];
  const binds = wants("binds") ? planBinds(point, recipe, state, names, Boolean(request.as)) : [];
  if (request.as && binds.length)
    warnings.push(`bind mounts of the copy are restored under ${targetDir}/binds`);

  const touched = new Set([...volumes.map((v) => v.name), ...binds.map((b) => b.path)]);
  const stop = state.containers
    .filter((c) => c.running && [...c.volumes, ...c.binds].some((x) => touched.has(x)))
    .map((c) => ({ id: c.id, name: c.name }));
  const undo = [
    ...volumes
      .filter((v) => v.action === "overwrite")
      .map((v) => ({ kind: "volume" as const, name: v.name, path: state.volumes[v.name]?.mountpoint ?? "" })),
    // Whatever is there (another kind too) is kept in the undo point before it is replaced.
    ...binds
      .filter((b) => b.action === "overwrite")
      .map((b) => ({ kind: "bind" as const, name: b.path, path: b.realPath ?? b.path })),
  ];

  const networks = request.what === "all" && recipe ? planNetworks(recipe, state, request, names) : [];
  const refusals = networks
    .filter((n) => n.action === "conflict")
    .map((n) => `network ${n.name} ${n.note}; --recreate-networks replaces it`);
  refusals.push(...secretVolumeRefusals(volumes));
  const files = wants("recipe") && recipe ? planFiles(recipe, state, targetDir) : [];
  if (wants("recipe") && !recipe && !point.phase)
    warnings.push("this point has no recipe: no compose files to write");

  const started = request.start
    ? planStart(recipe, request, state, { project, targetDir, names }, warnings)
    : { refused: [] };
  const unsafe = pathRefusals(binds, files, recipe, state, request);
  refusals.push(...started.refused, ...unsafe.refusals);
  return {
    request,
    point: strip(point),
    unitType: recipe?.unit.type ?? "unknown",
    project,
    targetDir,
    hooks: { pre: state.hooks.pre_restore, post: state.hooks.post_restore },
    stop,
    undo,
    volumes,
    binds,
    networks,
    files,
    ...(started.start ? { start: started.start } : {}),
    missing: missingFromPoint(point, recipe),
    refusals,
    ...(unsafe.confirm.length ? { confirmPaths: unsafe.confirm } : {}),
    warnings,
  };
}

/** A restore of an older point while newer ones failed should not surprise anyone: name them. */
function newerIncomplete(point: RestorePoint, points: RestorePoints): string[] {
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

function strip(p: RestorePoint): RestorePlan["point"] {
  const { volumes: _v, binds: _b, ...rest } = p;
  return rest;
}

function projectOf(recipe: LoadedRecipe | undefined): string | undefined {
  if (recipe?.unit.type !== "compose") return undefined;
  for (const i of Object.values(recipe.inspects)) {
    const labels = (i.Config as { Labels?: Record<string, string> } | undefined)?.Labels;
    if (labels?.[PROJECT_LABEL]) return labels[PROJECT_LABEL];
  }
  return recipe.unit.unit;
}

import { join } from "node:path";
import { AppError } from "../errors.ts";
import { rebuildDockerRun } from "./docker-run.ts";
import { PROJECT_LABEL, type Renamer, renamer } from "./names.ts";
import type { RestorePoint, RestorePoints } from "./points.ts";
import { composeTargetName, type LoadedRecipe } from "./recipe.ts";
import type { CurrentState, NetworkStep, RestorePlan, RestoreRequest, StartStep } from "./types.ts";

/**
 * Turns a request into the exact list of things a restore does. Pure: no I/O, no clock. Throws
 * AppError("not_found") when the point or a requested volume is not there.
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
  const warnings = [...point.problems];
  const project = request.as ?? projectOf(recipe) ?? point.unit;
  const targetDir = request.targetDir ?? join(state.restoreDir, request.as ?? point.unit);
  const names = renamer(request.as, targetDir);
  const wants = (k: "volumes" | "binds" | "recipe") => request.what === "all" || request.what === k;

  const chosen = request.volumes?.length ? request.volumes : undefined;
  for (const v of chosen ?? []) {
    if (!point.volumes.some((s) => s.name === v))
      throw new AppError("not_found", `restore point ${point.key} has no volume ${v}`, {
        hint: `volumes in it: ${point.volumes.map((s) => s.name).join(", ") || "none"}`,
      });
  }
  const volumes = wants("volumes")
    ? point.volumes
        .filter((s) => !chosen || chosen.includes(s.name))
        .map((s) => {
          const meta = recipe?.unit.volumes.find((v) => v.name === s.name);
          const labels = names.labels(meta?.labels ?? {});
          const name = names.volume(s.name, meta?.labels ?? {});
          return {
            name,
            from: s.name,
            snapshotId: s.id,
            sizeBytes: s.sizeBytes,
            files: s.files,
            action: state.volumes[name] ? ("overwrite" as const) : ("create" as const),
            driver: meta?.driver ?? "local",
            options: meta?.options ?? {},
            labels,
          };
        })
    : [];
  const binds = wants("binds")
    ? point.binds.map((b) => {
        const path = names.bind(b.source);
        const exists = (state.paths[path] ?? "missing") !== "missing";
        return {
          from: b.source,
          path,
          snapshotId: b.id,
          sizeBytes: b.sizeBytes,
          files: b.files,
          action: exists ? ("overwrite" as const) : ("create" as const),
        };
      })
    : [];
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
    ...binds
      .filter((b) => b.action === "overwrite" && state.paths[b.path] === "directory")
      .map((b) => ({ kind: "bind" as const, name: b.path, path: b.path })),
  ];

  const networks = request.what === "all" && recipe ? planNetworks(recipe, state, request, names) : [];
  const files =
    wants("recipe") && recipe
      ? recipe.files.map((f) => {
          const to = join(targetDir, targetName(f.stored, recipe));
          const old = state.fileHashes[to];
          const action = old === undefined ? "create" : old === f.sha256 ? "same" : "overwrite";
          return { stored: f.stored, to, action: action as "create" | "overwrite" | "same" };
        })
      : [];
  if (wants("recipe") && !recipe && !point.phase)
    warnings.push("this point has no recipe: no compose files to write");

  let start: StartStep | undefined;
  if (request.start) start = planStart(recipe, request, project, targetDir, names, warnings);
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
    ...(start ? { start } : {}),
    warnings,
  };
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

function targetName(stored: string, recipe: LoadedRecipe): string {
  if (stored.startsWith("project/")) return stored.slice("project/".length);
  return composeTargetName(
    stored,
    recipe.unit.composeFiles.map((c) => c.stored),
  );
}

function planNetworks(recipe: LoadedRecipe, state: CurrentState, req: RestoreRequest, names: Renamer) {
  const wanted = new Set(recipe.unit.networks);
  return recipe.networks
    .filter((n) => wanted.has(String(n.Name)))
    .map((inspect): NetworkStep => {
      const labels = (inspect.Labels as Record<string, string> | null) ?? {};
      const name = names.network(String(inspect.Name), labels);
      const existing = state.networks[name];
      if (!existing) return { name, action: "create", inspect };
      const subnets = ((inspect.IPAM as { Config?: { Subnet?: string }[] } | undefined)?.Config ?? [])
        .map((c) => c.Subnet)
        .filter((s): s is string => Boolean(s));
      const conflict =
        existing.driver !== inspect.Driver || subnets.some((s) => !existing.subnets.includes(s));
      if (!conflict) return { name, action: "keep", inspect };
      if (req.recreateNetworks) return { name, action: "recreate", inspect };
      return {
        name,
        action: "keep",
        inspect,
        note: "exists with another driver or subnet (--recreate-networks)",
      };
    });
}

function planStart(
  recipe: LoadedRecipe | undefined,
  req: RestoreRequest,
  project: string,
  targetDir: string,
  names: Renamer,
  warnings: string[],
): StartStep | undefined {
  if (!recipe) {
    warnings.push("--start: the point has no recipe, nothing to start from");
    return undefined;
  }
  if (recipe.unit.type === "compose") {
    if (req.what !== "all" && req.what !== "recipe")
      warnings.push("--start uses the compose files in the target dir");
    const files = recipe.unit.composeFiles.map((c) => join(targetDir, targetName(c.stored, recipe)));
    return { kind: "compose", project, files, cwd: targetDir };
  }
  const containers = [];
  const volumeLabels = (n: string) => recipe.unit.volumes.find((v) => v.name === n)?.labels ?? {};
  for (const c of recipe.unit.containers) {
    const inspect = recipe.inspects[c.name];
    if (!inspect) {
      warnings.push(`${c.name}: no saved inspect in the recipe; not started`);
      continue;
    }
    const r = rebuildDockerRun(inspect, {
      name: names.container(c.name),
      volumeName: (n) => names.volume(n, volumeLabels(n)),
      bindPath: (s) => names.bind(s),
      networkName: (n) => names.network(n, {}),
    });
    warnings.push(...r.warnings);
    if (r.refused) warnings.push(r.refused);
    else containers.push({ name: r.name, argv: r.argv });
  }
  return { kind: "run", containers };
}

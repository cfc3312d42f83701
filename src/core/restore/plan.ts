import { pathsOverlap } from "../discovery/bind-filter.ts";
import { AppError } from "../errors.ts";
import { isRecord } from "../guards.ts";
import { DOCKER_NAME } from "../names-rules.ts";
import { mountKey, unresolvedBinds } from "./compose-host.ts";
import { composeOverride } from "./compose-override.ts";
import { isolateCopy } from "./copy.ts";
import { copyNamingWarnings } from "./copy-naming.ts";
import { copyOwnerRefusals, isCopyOf } from "./copy-owner.ts";
import { copyProjectVariable } from "./copy-variable.ts";
import { type DumpStep, dumpTarget, planDumps } from "./dumps.ts";
import { unitOnHost } from "./host-units.ts";
import { unitLayout } from "./layout.ts";
import { bindDevice, PROJECT_LABEL } from "./names.ts";
import { planNetworks, secretNetworkRefusals } from "./networks.ts";
import { overrideToStart, planStart } from "./plan-start.ts";
import {
  filesRefusal,
  missingFromPoint,
  planBinds,
  planFiles,
  planVolumes,
  secretVolumeRefusals,
} from "./plan-steps.ts";
import { newerIncomplete, type RestorePoint, type RestorePoints } from "./points.ts";
import type { LoadedRecipe } from "./recipe.ts";
import { pathRefusals } from "./safety.ts";
import { settledHolds, settledWarnings } from "./settle-held.ts";
import { stopOrder } from "./stop-order.ts";
import type { ContainerState, CurrentState, RestorePlan, RestoreRequest } from "./types.ts";
import { foreignVolumeRefusals } from "./volume-owner.ts";
import { volumeTargets } from "./volume-targets.ts";

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
  const layout = unitLayout(request, recipe, state.restoreDir, point.unit);
  const { names, dir: targetDir } = layout;
  const wants = (k: "volumes" | "binds" | "recipe") => request.what === "all" || request.what === k;

  const chosen = request.volumes?.length ? request.volumes : undefined;
  const volumes = wants("volumes")
    ? planVolumes(point, recipe, state, chosen, names, Boolean(request.as))
    : [];
  const binds = wants("binds") ? planBinds(point, recipe, state, names, Boolean(request.as)) : [];

  const targets = volumeTargets(volumes, state);
  const touchedVolumes = new Set(volumes.map((v) => v.name));
  const touchedPaths = [
    ...binds.flatMap((b) => [b.path, ...(b.realPath ? [b.realPath] : [])]),
    ...targets.undo.map((u) => u.path),
  ];
  // A container uses what is restored when it mounts a restored volume, or a bind at, under or above
  // a restored path (not `/`): a bind directory is replaced by a rename, so one mounting a
  // subdirectory would go on writing into the old tree, which is then deleted, and one mounting a
  // parent would write into the old tree meanwhile.
  const uses = (c: ContainerState) =>
    c.volumes.some((v) => touchedVolumes.has(v)) ||
    [...c.binds, ...(c.devices ?? [])].some((x) => touchedPaths.some((p) => pathsOverlap(x, p)));
  // Stopped dependents first, started again the other way round (stop-order.ts).
  const stop = stopOrder(
    state.containers.filter((c) => c.running && uses(c)),
    projectOf(recipe),
    state.compose,
  ).map(stopEntry);
  const undo = [
    ...volumes
      .filter((v) => v.action === "overwrite")
      .map((v) => ({ kind: "volume" as const, name: v.name, path: state.volumes[v.name]?.mountpoint ?? "" })),
    ...targets.undo,
    // Whatever is there (another kind too) is kept in the undo point before it is replaced.
    ...binds
      .filter((b) => b.action === "overwrite")
      .map((b) => ({ kind: "bind" as const, name: b.path, path: b.realPath ?? b.path })),
  ];

  // A backup leaves out what matches the exclude patterns; a volume or bind replaced in place comes
  // back without it (an undo point leaves nothing out, so restoring one drops nothing).
  const excluded = state.excludePatterns ?? [];
  if (excluded.length && undo.length && !point.phase)
    warnings.push(
      `files matching ${excluded.join(", ")} (backup.exclude_patterns) are not in backups: ${undo.map((u) => u.name).join(", ")} ${undo.length > 1 ? "come" : "comes"} back without them; today's go into the undo point`,
    );
  const networks = request.what === "all" && recipe ? planNetworks(recipe, state, request, names) : [];
  const refusals = networks
    .filter((n) => n.action === "conflict")
    .map((n) => `network ${n.name} ${n.note}; --recreate-networks replaces it`);
  refusals.push(...secretVolumeRefusals(volumes), ...secretNetworkRefusals(networks), ...targets.refusals);
  const files = wants("recipe") && recipe ? planFiles(recipe, state, targetDir, binds) : [];
  if (wants("recipe") && !recipe && !point.phase)
    warnings.push("this point has no recipe: no compose files to write");
  if (wants("recipe") && state.copyNaming)
    warnings.push(...copyNamingWarnings(state.copyNaming, files, request.as ?? project, targetDir));
  const differing = filesRefusal(files, targetDir, request);
  if (differing) refusals.push(differing);
  // A copy is kept off the original's volumes, networks and bind paths (copy.ts). In place, a bind
  // the point holds is mounted from where it is restored; others stay as they were.
  const copy = request.as
    ? isolateCopy({
        point,
        recipe,
        state,
        names,
        volumes,
        networks,
        start: request.start,
        projectVariable: copyProjectVariable(state, files, request.as),
      })
    : undefined;
  refusals.push(...(copy?.refusals ?? []));
  if (!request.as)
    refusals.push(...foreignVolumeRefusals({ name: point.unit, project: projectOf(recipe) }, volumes, state));
  else
    refusals.push(
      ...copyOwnerRefusals({
        point,
        as: request.as,
        project: projectOf(recipe),
        state,
        volumes,
        binds,
        originalDevices: (recipe?.unit.volumes ?? []).flatMap((v) => bindDevice(v.options ?? {}) ?? []),
      }),
    );
  warnings.push(...(copy?.warnings ?? []));
  const fromPoint =
    copy?.bindPath ?? ((s: string) => (point.binds.some((b) => b.source === s) ? names.bind(s) : undefined));
  // Relocated, every bind is pinned to where it is restored; in place, one whose source compose would
  // interpolate (a variable, `~`) to the source the backup recorded, judged as every recorded bind is
  // (safety.ts). Anywhere, an anonymous volume is pinned to the volume its data is restored into:
  // compose would give it a new, empty one.
  const unresolved = unresolvedBinds(state.composeUse, targetDir);
  const pins = {
    bind: layout.relocated
      ? (s: string) => fromPoint(s) ?? s
      : (s: string, service: string, target: string) =>
          unresolved.has(mountKey(service, target)) ? s : undefined,
    anonymous: (n: string) => volumes.find((v) => v.from === n)?.name,
  };
  const override =
    (wants("recipe") || request.start) && recipe?.unit.type === "compose"
      ? composeOverride(recipe, targetDir, pins, state.compose, warnings, copy?.objects)
      : undefined;
  if (override && recipe && !request.start)
    warnings.push(
      overrideToStart(override, { project, dir: targetDir, relocated: layout.relocated }, recipe),
    );

  const settled = settledHolds(request, state.containers, point.unit, uses);
  const started = request.start
    ? planStart(
        recipe,
        request,
        state,
        {
          project,
          targetDir,
          names,
          bindPath: (s) => fromPoint(s) ?? s,
          override,
          ...(request.as ? { copyOf: point.unit } : {}),
          settles: new Set(settled.map((c) => c.id)),
        },
        warnings,
      )
    : { refused: [] };
  warnings.push(...settledWarnings(settled, started.start));
  // `--volume NAME` asks for those volumes alone: a database is never replaced from its dump on the side.
  if (chosen && point.dumps?.length)
    warnings.push(
      `not fed back (only the chosen volumes are restored): the dump of ${point.dumps.map((d) => d.container).join(", ")}`,
    );
  const dumped =
    wants("volumes") && !chosen
      ? planDumps(point, state.unitConfig, state.containers, names, {
          willStart: Boolean(started.start),
          ...(request.as ? {} : { inPlace: point.unit }),
          ...(request.as && recipe?.unit.type === "compose"
            ? {
                composeCopy: {
                  project,
                  serviceOf: (n: string) => recipe.unit.containers.find((c) => c.name === n)?.service,
                  ours: (c: ContainerState) => isCopyOf(c, point.unit, state),
                },
              }
            : request.as
              ? { standaloneCopy: { ours: (c: ContainerState) => isCopyOf(c, point.unit, state) } }
              : {}),
        })
      : { dumps: [], refusals: [] };
  refusals.push(...dumped.refusals);
  if (started.start?.kind === "compose" && dumped.dumps.length) {
    const first = databaseServices(dumped.dumps, recipe);
    if (first) started.start.first = first;
    else
      warnings.push(
        "--start: the compose service of a dumped database is unknown, so the whole project starts before its dump is fed",
      );
  }
  // Fed in place, a dump replaces the data the unit's other containers use: they are stopped for the
  // feed too (and started once it is fed), so none holds a session that blocks or breaks it, or writes
  // to the old data meanwhile. Which they are is this host's business (their labels, as discovery
  // groups them: `unitOnHost`), never the snapshot's: a recipe could name any container.
  if (dumped.dumps.length && !request.as) {
    const fed = new Set(dumped.dumps.map((x) => x.container));
    for (const c of state.containers)
      if (c.running && unitOnHost(c) === point.unit && !fed.has(c.name) && !stop.some((s) => s.id === c.id))
        stop.push(stopEntry(c));
  }
  for (const d of dumped.dumps.filter((x) => !x.undo))
    warnings.push(
      `the dump replaces the database in ${dumpTarget(d)}; no undo point is taken of it (it is not running now, or no dump command is known)`,
    );
  // A stop deletes a `--rm` container: the restore could never start it again.
  for (const s of stop) {
    if (state.containers.find((c) => c.id === s.id)?.autoRemove)
      refusals.push(
        `${s.name} uses what is restored and was started with --rm: stopping it would delete it and its anonymous volumes, so the restore cannot stop it and start it again; stop it yourself (docker stop ${s.name}), restore, then run it again, or restore a copy (--as NAME)`,
      );
  }
  // The recipe's own directory (not one the person named): its files and compose's mounts are judged.
  const home = layout.relocated || request.targetDir ? undefined : targetDir;
  const unsafe = pathRefusals(binds, files, recipe, state, request, {
    ...(home ? { home } : {}),
    ...(started.start ? { start: started.start } : {}),
    ...(override ? { override } : {}),
  });
  refusals.push(...started.refused, ...unsafe.refusals);
  return {
    request,
    point: strip(point),
    unitType: recipe?.unit.type ?? "unknown",
    project,
    targetDir,
    hooks: { pre: state.hooks.pre_restore, post: state.hooks.post_restore },
    stop,
    users: state.containers.filter(uses).map((c) => c.id),
    undo,
    volumes,
    binds,
    networks,
    files,
    ...(dumped.dumps.length ? { dumps: dumped.dumps } : {}),
    ...(override ? { override } : {}),
    ...(started.start ? { start: started.start } : {}),
    missing: missingFromPoint(point, recipe),
    refusals,
    ...(unsafe.confirm.length ? { confirmPaths: unsafe.confirm } : {}),
    warnings,
  };
}

function strip(p: RestorePoint): RestorePlan["point"] {
  const { volumes: _v, binds: _b, dumps: _d, ...rest } = p;
  return rest;
}

function projectOf(recipe: LoadedRecipe | undefined): string | undefined {
  if (recipe?.unit.type !== "compose") return undefined;
  for (const i of Object.values(recipe.inspects)) {
    const labels = isRecord(i.Config) && isRecord(i.Config.Labels) ? i.Config.Labels : {};
    const project = labels[PROJECT_LABEL];
    if (project && typeof project === "string") return project;
  }
  return recipe.unit.unit;
}

/**
 * The compose services of the containers fed a dump, started alone before the feed so that no
 * client of theirs runs on the old or empty data meanwhile; undefined when one is unknown. A
 * recipe's service name becomes an argument of `compose up`: only a docker name passes.
 */
function databaseServices(dumps: readonly DumpStep[], recipe: LoadedRecipe | undefined) {
  const services = dumps.map(
    (d) => d.service?.name ?? recipe?.unit.containers.find((c) => c.name === d.from)?.service,
  );
  if (services.some((s) => s === undefined || !DOCKER_NAME.test(s))) return undefined;
  return [...new Set(services as string[])];
}

/** A container to stop, and whether it was paused (paused again once it runs again). */
const stopEntry = (c: ContainerState): RestorePlan["stop"][number] => ({
  id: c.id,
  name: c.name,
  ...(c.paused ? { paused: true as const } : {}),
});

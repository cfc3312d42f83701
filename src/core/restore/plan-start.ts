import { join } from "node:path";
import { isRecord } from "../guards.ts";
import type { ComposeOverride } from "./compose-override.ts";
import { COPY_OF_LABEL } from "./copy-owner.ts";
import { rebuildDockerRun } from "./docker-run.ts";
import type { Renamer } from "./names.ts";
import { targetName } from "./plan-steps.ts";
import type { LoadedRecipe } from "./recipe.ts";
import type { CurrentState, RestoreRequest, StartStep } from "./types.ts";

/**
 * How `--start` brings the unit up: compose up with the restored files, or a `docker run` per
 * standalone container rebuilt from its saved inspect (one that exists is started, not recreated). A
 * container whose redacted env values the env file does not supply is left out and `refused` names it
 * and the variables.
 */
export function planStart(
  recipe: LoadedRecipe | undefined,
  req: RestoreRequest,
  state: CurrentState,
  at: {
    project: string;
    targetDir: string;
    names: Renamer;
    /** Where a bind source is mounted from after the restore. */
    bindPath: (source: string) => string;
    override?: ComposeOverride | undefined;
    /** A copy (`--as`) of this unit: its containers say so, so a later copy feeds a dump only into them. */
    copyOf?: string;
    /** Ids of the held containers whose holds this restore ends (`settle-held.ts`). */
    settles?: ReadonlySet<string>;
  },
  warnings: string[],
): { start?: StartStep; refused: string[] } {
  if (!recipe) {
    warnings.push("--start: the point has no recipe, nothing to start from");
    return { refused: [] };
  }
  if (recipe.unit.type === "compose") {
    if (req.what !== "all" && req.what !== "recipe")
      warnings.push("--start uses the compose files in the target dir");
    const files = recipe.unit.composeFiles.map((c) => join(at.targetDir, targetName(c.stored, recipe)));
    if (at.override) files.push(at.override.path);
    warnings.push(...(state.composeUse?.elevated ?? []), ...scaledServices(recipe, at.override));
    return { start: { kind: "compose", project: at.project, files, cwd: at.targetDir }, refused: [] };
  }
  if (req.envFile && state.envFileOpen)
    warnings.push(`${req.envFile} holds secrets but others may read it: chmod 600 ${req.envFile}`);
  const containers: (StartStep & { kind: "run" })["containers"] = [];
  const joins = new Map<string, string>();
  const refused: string[] = [];
  const volumeLabels = (n: string) => recipe.unit.volumes.find((v) => v.name === n)?.labels ?? {};
  for (const c of recipe.unit.containers) {
    const inspect = recipe.inspects[c.name];
    if (!inspect) {
      warnings.push(`${c.name}: no saved inspect in the recipe; not started`);
      continue;
    }
    const r = rebuildDockerRun(inspect, {
      name: at.names.container(c.name),
      volumeName: (n) => at.names.volume(n, volumeLabels(n)),
      bindPath: at.bindPath,
      networkName: (n) => at.names.network(n, {}),
      networkContainer: (ref) => sharedNetworkOwner(ref, recipe, state, at.names),
      ...imageOf(inspect, state),
      ...(req.envFile ? { envFile: { path: req.envFile, keys: state.envFileKeys ?? [] } } : {}),
      ...(at.copyOf ? { labels: { [COPY_OF_LABEL]: at.copyOf } } : {}),
    });
    // One that exists is started as it is: what would keep its rebuilt argv from running is moot.
    const exists = existing(state, r.name, warnings, at.settles);
    if (exists) containers.push({ name: r.name, argv: r.argv, env: r.env, exists });
    else {
      warnings.push(...r.warnings);
      if (r.refused) refused.push(r.refused);
      else containers.push({ name: r.name, argv: r.argv, env: r.env });
    }
    if (r.joins) joins.set(r.name, r.joins);
  }
  return { start: { kind: "run", containers: joinedFirst(containers, joins) }, refused };
}

/** The `Config` of the image a saved inspect was run from, when this host could inspect it. */
function imageOf(inspect: Record<string, unknown>, state: CurrentState): { image?: Record<string, unknown> } {
  const config = inspect.Config;
  const ref = isRecord(config) && typeof config.Image === "string" ? config.Image : "";
  const image = Object.hasOwn(state.images ?? {}, ref) ? state.images?.[ref] : undefined;
  return image ? { image } : {};
}

/**
 * The name here of the container whose network a container shares (`container:<ref>`; docker
 * records its id): one of this backup's (named as the restore names it), else the one on this host
 * with that id (or name). The ref and the saved ids come from the snapshot: compared, never passed on.
 */
function sharedNetworkOwner(
  ref: string,
  recipe: LoadedRecipe,
  state: CurrentState,
  names: Renamer,
): string | undefined {
  // Docker takes a unique id prefix too; a short one could name anything.
  const is = (id: string, name: string) =>
    id === ref || name === ref || (ref.length >= 12 && id.startsWith(ref));
  const saved = recipe.unit.containers.filter((c) => {
    const i = recipe.inspects[c.name];
    return is(typeof i?.Id === "string" ? i.Id : "", c.name);
  });
  if (saved.length === 1 && saved[0]) return names.container(saved[0].name);
  const here = state.containers.filter((c) => is(c.id, c.name));
  return here.length === 1 ? here[0]?.name : undefined;
}

/** Each container after the one whose network it shares (`joins`: name → name), else as listed. */
function joinedFirst<T extends { name: string }>(list: T[], joins: ReadonlyMap<string, string>): T[] {
  const out: T[] = [];
  const place = (c: T, seen: Set<string>) => {
    if (out.includes(c) || seen.has(c.name)) return;
    seen.add(c.name);
    const owner = list.find((x) => x.name === joins.get(c.name));
    if (owner) place(owner, seen);
    out.push(c);
  };
  for (const c of list) place(c, new Set());
  return out;
}

/**
 * A container of that name on this host is not recreated: one that runs is left as it is; a stopped
 * one is started once its data is restored (the app that crashed, restored, is up again), unless an
 * interrupted restore holds it (its data may be half restored), which the plan says; unless this
 * restore is the one that makes that data whole again (`settles`).
 */
function existing(
  state: CurrentState,
  name: string,
  warnings: string[],
  settles: ReadonlySet<string> | undefined,
): "running" | "stopped" | "held" | "settles" | undefined {
  const c = state.containers.find((x) => x.name === name);
  if (!c) return undefined;
  if (c.running) return "running";
  if (!c.held) return "stopped";
  if (settles?.has(c.id)) {
    warnings.push(
      `--start: ${name} is held by a restore that did not finish; this one replaces its data whole, which ends the hold: it is started once it has`,
    );
    return "settles";
  }
  warnings.push(`--start: ${name} exists and stays stopped: ${c.held}`);
  return "held";
}

/**
 * `compose up` starts one container of a service that ran several at the backup (`--scale`, which
 * the compose files do not record): named, with the command that scales it again. Their anonymous
 * volumes are pinned by (service, path): every replica would share the first one's.
 */
function scaledServices(recipe: LoadedRecipe, override: ComposeOverride | undefined): string[] {
  const count = new Map<string, number>();
  for (const c of recipe.unit.containers)
    if (c.service) count.set(c.service, (count.get(c.service) ?? 0) + 1);
  return [...count]
    .filter(([, n]) => n > 1)
    .map(
      ([service, n]) =>
        `--start: service ${service} ran ${n} containers at the backup; compose starts one ` +
        `(scale it again with up -d --scale ${service}=${n})` +
        (override?.volumes?.some((v) => v.service === service)
          ? "; its anonymous volumes are the first container's, which every replica would then share"
          : ""),
    );
}

/**
 * Without `--start`, whoever starts the unit must pass the override, or compose mounts other data. A
 * relocated unit's pinned binds, and a copy's renamed volumes and networks, need it on every `up`:
 * without it compose mounts the original's host paths, volumes and networks. Only in place with
 * nothing but anonymous volumes pinned does a plain `up` keep them, once the unit runs.
 */
export function overrideToStart(
  o: ComposeOverride,
  at: { project: string; dir: string; relocated: boolean },
  recipe: LoadedRecipe,
): string {
  const files = [...recipe.unit.composeFiles.map((c) => join(at.dir, targetName(c.stored, recipe))), o.path];
  const always = [
    ...(o.binds.length ? [at.relocated ? "the original's host paths" : "other host paths"] : []),
    ...(o.renamed?.length ? ["the original's volumes and networks"] : []),
  ];
  return (
    `${o.path} pins the mounts to the restored data: start the unit with ` +
    `docker-compose -p ${at.project} --project-directory ${at.dir} ${files.map((f) => `-f ${f}`).join(" ")} up -d` +
    (always.length
      ? ` (always with this override: without it compose mounts ${always.join(" and ")})`
      : !at.relocated && o.volumes?.length
        ? " (once it runs, a plain `up` keeps the same volumes)"
        : "")
  );
}

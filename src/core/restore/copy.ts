import { BUILTIN_NETWORKS } from "../discovery/resources.ts";
import { volumeData } from "../discovery/volume-data.ts";
import { isRecord } from "../guards.ts";
import type { ComposeFacts, Obj } from "./compose-facts.ts";
import { copyCollisions } from "./copy-collisions.ts";
import {
  bindDevice,
  composeProjectOf,
  isBindVolume,
  NETWORK_LABEL,
  PROJECT_LABEL,
  type Renamer,
  VOLUME_LABEL,
} from "./names.ts";
import type { RestorePoint } from "./points.ts";
import type { LoadedRecipe } from "./recipe.ts";
import type { CurrentState, NetworkStep, VolumeStep } from "./types.ts";

/**
 * A side-by-side copy (`--as`) runs next to the original, so it must never use the original's
 * volumes, networks or bind paths. Compose names most objects after the project (`-p COPY` gives the
 * copy its own), but a volume or network whose compose entry fixes its name (`name:`, `external`)
 * would be the original's, and a bind volume's `device` is the original's directory. The copy's
 * override (compose-override.ts) gives each the name the copy's restored one has (names.ts); what
 * cannot be given one is refused before anything changes when the copy is started, and warned about
 * when it is not.
 */

/** A volume or network the compose files name themselves, and the copy's own for it. */
export interface CopyObject {
  kind: "volume" | "network";
  /** Its key in the compose files. */
  key: string;
  /** The original's name. */
  from: string;
  /** The copy's: the name its restored volume or network has. */
  to: string;
  external: boolean;
}

export interface CopyObjects {
  renamed: CopyObject[];
  /**
   * Top-level entries the override replaces, each whole: compose v1 replaces an entry with the
   * override's, v2 merges the two, and both end at this one.
   */
  volumes: Record<string, Obj>;
  networks: Record<string, Obj>;
  /** Why the copy would still use something of the original's. */
  problems: string[];
}

/** The copy's names for what the compose files fix. Pure; `facts` unset: none is known. */
export function copyObjects(
  recipe: LoadedRecipe,
  facts: ComposeFacts | undefined,
  names: Renamer,
): CopyObjects {
  const out: CopyObjects = { renamed: [], volumes: {}, networks: {}, problems: [] };
  const project = composeProjectOf(recipe);
  const own = (labels: Record<string, string>, label: string, key: string) =>
    labels[PROJECT_LABEL] === project && labels[label] === key;
  for (const [key, e] of Object.entries(facts?.fixed?.volumes ?? {})) {
    const fixed = fixedName(key, e);
    const meta = recipe.unit.volumes.find((v) =>
      fixed.name
        ? v.name === fixed.name
        : own(v.labels ?? {}, VOLUME_LABEL, key) || v.name === `${project}_${key}`,
    );
    const entry = { ...e };
    if (fixed.fixes) {
      const from = fixed.name ?? meta?.name;
      if (!from) {
        out.problems.push(`volume ${key}: ${unknownName(e)}`);
        continue;
      }
      const to = names.volume(from, meta?.labels ?? {});
      out.renamed.push({ kind: "volume", key, from, to, external: fixed.external });
      Object.assign(entry, { name: to }, fixed.external ? { external: true } : {});
    }
    const moved = movedDevice(key, e, meta?.options ?? undefined, names);
    if (typeof moved === "string") out.problems.push(moved);
    else if (moved) entry.driver_opts = moved;
    if (fixed.fixes || (moved && typeof moved !== "string")) out.volumes[key] = entry;
  }
  for (const [key, e] of Object.entries(facts?.fixed?.networks ?? {})) {
    const fixed = fixedName(key, e);
    if (!fixed.fixes || (fixed.name && BUILTIN_NETWORKS.has(fixed.name))) continue;
    const inspect = recipe.networks.find((n) =>
      fixed.name ? n.Name === fixed.name : own(n.Labels ?? {}, NETWORK_LABEL, key),
    );
    const from = fixed.name ?? inspect?.Name;
    if (!from) {
      out.problems.push(`network ${key}: ${unknownName(e)}`);
      continue;
    }
    const to = names.network(from, inspect?.Labels ?? {});
    out.renamed.push({ kind: "network", key, from, to, external: fixed.external });
    out.networks[key] = { ...e, name: to, ...(fixed.external ? { external: true } : {}) };
  }
  return out;
}

/**
 * The name an entry fixes: `name:`, `external: {name:}` (the old form) or, external without one,
 * its key. `name` is undefined when it comes from a variable (`${X}`): only the recipe's labels
 * (compose v2 records the key) can tell which one it was.
 */
function fixedName(key: string, e: Obj): { fixes: boolean; name?: string; external: boolean } {
  const external = e.external === true || isRecord(e.external);
  const legacy = isRecord(e.external) ? e.external.name : undefined;
  const raw = [e.name, legacy].find((n) => n !== undefined) ?? (external ? key : undefined);
  if (raw === undefined) return { fixes: false, external };
  const name = typeof raw === "string" && !raw.includes("$") ? raw : undefined;
  return { fixes: true, ...(name ? { name } : {}), external };
}

function unknownName(e: Obj): string {
  const raw = e.name ?? (isRecord(e.external) ? e.external.name : undefined);
  return (
    `its name ${JSON.stringify(raw)} comes from a variable and the backup does not tell which one it ` +
    "was, so the copy would use the original's; give it a literal name in the compose file, or restore in place"
  );
}

/**
 * A volume's `driver_opts` for the copy: a bind volume's device moved where the copy's restored
 * volume keeps its data (the recorded options, as planVolumes moves them; else the file's path).
 * A problem (a string) when the data would stay where the original's is; undefined: nothing to move.
 */
function movedDevice(
  key: string,
  e: Obj,
  recorded: Record<string, string> | undefined,
  names: Renamer,
): Obj | string | undefined {
  if (!isRecord(e.driver_opts)) return undefined;
  const opts: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.driver_opts))
    if (typeof v === "string" || typeof v === "number") opts[k] = String(v);
  const driver = typeof e.driver === "string" ? e.driver : "local";
  const elsewhere = `volume ${key} keeps its data outside Docker (driver ${driver}, ${Object.entries(opts)
    .map(([k, v]) => `${k}=${v}`)
    .join(
      " ",
    )}), so the copy would use the original's storage; restore without --start, give the copy's volume its own storage in its compose files, then start it`;
  if (driver !== "local") return Object.keys(opts).length ? elsewhere : undefined;
  if (isBindVolume(opts)) {
    const from = recorded && bindDevice(recorded) ? recorded : undefined;
    const literal = opts.device && !opts.device.includes("$") ? opts : undefined;
    const device = names.volumeOptions(from ?? literal ?? {}).device;
    if (device) return { ...e.driver_opts, device: device.replaceAll("$", () => "$$") };
    return opts.device ? elsewhere : undefined;
  }
  if (opts.type === "tmpfs" || (opts.type === undefined && opts.device === undefined)) return undefined;
  return elsewhere;
}

export interface CopyIsolation {
  /**
   * Where the copy mounts a bind source from: every bind of the unit from the copy's own path,
   * whether or not the point holds it; undefined for the host's own (`/etc/localtime`, the docker
   * socket: never backed up, mounted as they were).
   */
  bindPath: (source: string) => string | undefined;
  /** A compose copy's own volumes and networks, for its override. */
  objects?: CopyObjects;
  refusals: string[];
  warnings: string[];
}

/**
 * Everything that keeps a copy off the original's data, and what it could not start beside the
 * original with (copy-collisions.ts). Refused with `--start` (nothing is changed), a warning without:
 * the files are written, and a later `compose up` would share or collide.
 */
export function isolateCopy(a: {
  point: RestorePoint;
  recipe: LoadedRecipe | undefined;
  state: CurrentState;
  names: Renamer;
  volumes: readonly VolumeStep[];
  networks: readonly NetworkStep[];
  start: boolean;
  /** What `${COMPOSE_PROJECT_NAME}` becomes in the copy's compose up (copy-variable.ts); unset: unknown. */
  projectVariable?: string;
}): CopyIsolation {
  const { recipe, names, state } = a;
  const refusals: string[] = [];
  const warnings: string[] = [];
  const unsafe = (m: string) => (a.start ? refusals : warnings).push(m);
  const held = new Set(a.point.binds.map((b) => b.source));
  const unit = new Set(recipe?.unit.bindMounts.map((b) => b.source) ?? []);
  for (const s of unit)
    if (!held.has(s))
      warnings.push(
        `bind ${s} is not in this point: the copy mounts ${names.bind(s)} (empty unless restored there before)`,
      );
  const bindPath = (s: string) => (held.has(s) || unit.has(s) ? names.bind(s) : undefined);
  refusals.push(...leftDevices(recipe, state, a.volumes));
  if (recipe) for (const c of copyCollisions(recipe, state, a.projectVariable)) unsafe(c);
  if (recipe?.unit.type !== "compose") return { bindPath, refusals, warnings };

  if (!state.compose)
    warnings.push(
      "the compose files could not be read: volumes and networks they name themselves are not renamed for the copy",
    );
  const objects = copyObjects(recipe, state.compose, names);
  for (const p of objects.problems) unsafe(p);
  for (const r of objects.renamed.filter((x) => x.external && a.start)) {
    const made =
      r.kind === "volume"
        ? a.volumes.some((v) => v.name === r.to) || Object.hasOwn(state.volumes, r.to)
        : a.networks.some((n) => n.name === r.to) || Object.hasOwn(state.networks, r.to);
    if (!made)
      refusals.push(
        `${r.kind} ${r.key} is external (${r.from}): the copy uses its own ${r.to}, which does not exist ` +
          `and is not restored: create it (docker ${r.kind} create ${r.to}) or restore it too, then restore again`,
      );
  }
  for (const s of state.compose?.sharing ?? [])
    unsafe(
      `service ${s.service}: ${s.key} container:${s.container} shares a container outside the copy ` +
        "(its volumes or network), so the copy would use the original's; restore without --start, or in place",
    );
  // A service with no container at the backup has no inspect, so no override pins its host paths.
  const recorded = new Set(recipe.unit.containers.map((c) => c.service).filter(Boolean));
  for (const b of state.compose?.hostBinds ?? [])
    if (!recorded.has(b.service))
      unsafe(
        `service ${b.service} mounts host path ${b.source} and had no container at the backup, so the copy ` +
          "cannot be given its own: compose would mount the original's; remove the service from the copy's " +
          "compose file, or restore without --start",
      );
  for (const m of bindMountsOf(recipe)) {
    const path = bindPath(m.source);
    // Without --start, composeOverride's warning says it.
    if (a.start && path && (path.includes(":") || m.target.includes(":")))
      refusals.push(`${m.service}: bind ${m.source}:${m.target} cannot be moved for the copy (a ':' in it)`);
  }
  return { bindPath, objects, refusals, warnings };
}

/**
 * A copy's volume left by an older restore with the original's bind device: restoring into it would
 * overwrite the original's data.
 */
function leftDevices(
  recipe: LoadedRecipe | undefined,
  state: CurrentState,
  volumes: readonly VolumeStep[],
): string[] {
  return volumes.flatMap((v) => {
    const meta = recipe?.unit.volumes.find((m) => m.name === v.from);
    const now = state.volumes[v.name]?.mountpoint;
    if (!meta || v.action !== "overwrite" || !now) return [];
    const data = volumeData({ driver: meta.driver, options: meta.options ?? {}, mountpoint: "" });
    if (data.kind !== "device" || data.path !== now) return [];
    return [
      `volume ${v.name} exists and keeps its data in ${now}, where the original's ${v.from} keeps its own: ` +
        `remove the copy's volume (docker volume rm ${v.name}) and restore again`,
    ];
  });
}

function bindMountsOf(recipe: LoadedRecipe): { service: string; source: string; target: string }[] {
  return recipe.unit.containers.flatMap((c) => {
    const mounts = recipe.inspects[c.name]?.Mounts;
    if (!c.service || !Array.isArray(mounts)) return [];
    return mounts
      .filter(isRecord)
      .filter((m) => m.Type === "bind" && typeof m.Source === "string" && typeof m.Destination === "string")
      .map((m) => ({ service: c.service ?? "", source: String(m.Source), target: String(m.Destination) }));
  });
}

import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Config } from "../../config/schema.ts";
import { heldContainers } from "../backup/held.ts";
import { containersNeeded } from "../containers/start-order.ts";
import { guessDatabase } from "../discovery/labels.ts";
import { volumeData, volumeFacts } from "../discovery/volume-data.ts";
import type { Docker } from "../docker/docker.ts";
import { UsageError } from "../errors.ts";
import { isRecord } from "../guards.ts";
import { pathUnder, symlinkAtOrAbove } from "../safe-paths.ts";
import { readComposeFacts } from "./compose-facts.ts";
import { readComposeHostUse } from "./compose-host.ts";
import { copyObjects } from "./copy.ts";
import { readCopyNaming } from "./copy-naming.ts";
import { imageUnitLabels } from "./host-units.ts";
import { unitLayout } from "./layout.ts";
import type { RestorePoint } from "./points.ts";
import { composeTargetName, type LoadedRecipe, sha256File } from "./recipe.ts";
import type { ContainerState, CurrentState, RestoreRequest } from "./types.ts";

/**
 * Reads what planning needs from this host: the volumes, networks and containers a restore of
 * `point` may touch, and what is already at the paths it may write. Reads only.
 */
export async function readCurrentState(
  docker: Docker,
  config: Config,
  request: RestoreRequest,
  point: RestorePoint,
  recipe: LoadedRecipe | undefined,
  /** The restart journal: a stopped container an interrupted restore holds is never started by `--start`. */
  journal?: { dir: string; warn: (m: string) => void },
): Promise<CurrentState> {
  const { dir: targetDir, names } = unitLayout(request, recipe, config.paths.restore_dir, point.unit);
  const compose = recipe?.unit.type === "compose" ? readComposeFacts(recipe) : undefined;
  // A copy's own names for the volumes and networks its compose files fix (one may exist already).
  const renamed = request.as && recipe && compose ? copyObjects(recipe, compose, names).renamed : [];
  const labelsOf = (n: string) => recipe?.unit.volumes.find((v) => v.name === n)?.labels ?? {};
  const volumeNames = unique([
    ...point.volumes.map((v) => names.volume(v.name, labelsOf(v.name))),
    ...renamed.filter((r) => r.kind === "volume").map((r) => r.to),
  ]);
  const networkNames = unique([
    ...(recipe?.networks ?? []).map((n) => names.network(n.Name, n.Labels ?? {})),
    ...renamed.filter((r) => r.kind === "network").map((r) => r.to),
  ]);
  const listed = withHolds(await listContainers(docker, config), journal?.dir, journal?.warn ?? (() => {}));
  // One inspect: the volumes the point names, and those running containers mount (`withDevices`).
  const mounted = listed.filter((c) => c.running).flatMap((c) => c.volumes);
  const inspected = unique([...volumeNames, ...mounted]).filter(Boolean);
  const volumes: CurrentState["volumes"] = {};
  const deviceOf = new Map<string, string>();
  for (const v of inspected.length ? await docker.volumeInspect(inspected) : []) {
    // Where the data is while nothing runs: a bind volume's device, else the mountpoint.
    const data = volumeData(volumeFacts(v), config.backup);
    if (data.kind === "device") deviceOf.set(v.Name, data.path);
    if (!volumeNames.includes(v.Name)) continue;
    volumes[v.Name] = {
      mountpoint: data.kind === "not_protected" ? v.Mountpoint : data.path,
      labels: v.Labels,
      ...(data.kind === "not_protected" ? { notProtected: data.reason } : {}),
    };
  }
  const networks: CurrentState["networks"] = {};
  for (const n of networkNames.length ? await docker.networkInspect(networkNames) : []) {
    networks[n.Name] = {
      driver: n.Driver,
      subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? "").filter(Boolean),
    };
  }
  const paths: CurrentState["paths"] = {};
  const symlinks: NonNullable<CurrentState["symlinks"]> = {};
  // In place a bind is written at its host path (nothing above it is trusted); a copy under targetDir.
  const bindRoot = request.as ? targetDir : "/";
  for (const b of point.binds) {
    const path = names.bind(b.source);
    paths[path] = kindOf(path);
    const link = symlinkAtOrAbove(path, bindRoot);
    if (link) symlinks[path] = { ...link, resolved: resolveExisting(path) };
  }
  // A bind volume to create writes into its device directory: the recipe names it (untrusted), and
  // what is there already may be someone's data.
  const devices: NonNullable<CurrentState["devices"]> = {};
  for (const v of point.volumes) {
    const meta = recipe?.unit.volumes.find((x) => x.name === v.name);
    if (volumes[names.volume(v.name, labelsOf(v.name))]) continue;
    const options = names.volumeOptions(meta?.options ?? {});
    const data = volumeData({ driver: meta?.driver ?? "local", options, mountpoint: "" });
    if (data.kind !== "device") continue;
    devices[data.path] = deviceContent(data.path);
    const link = symlinkAtOrAbove(data.path, bindRoot);
    if (link) symlinks[data.path] = { ...link, resolved: resolveExisting(data.path) };
  }
  const images =
    request.start && recipe && recipe.unit.type !== "compose" ? await imageConfigs(docker, recipe) : {};
  const fileHashes: Record<string, string> = {};
  const stored = recipe?.files.map((f) => f.stored) ?? [];
  const composeStored = recipe?.unit.composeFiles.map((c) => c.stored) ?? [];
  for (const s of stored) {
    const rel = s.startsWith("project/") ? s.slice(8) : composeTargetName(s, composeStored);
    const to = pathUnder(targetDir, rel);
    if (existsSync(to) && lstatSync(to).isFile()) fileHashes[to] = sha256File(to);
    const link = symlinkAtOrAbove(to, fileRoot(targetDir, config.paths.restore_dir, request.targetDir));
    if (link) symlinks[to] = { ...link, resolved: resolveExisting(to) };
  }
  return {
    ...(request.envFile
      ? {
          envFileKeys: envFileKeys(request.envFile),
          envFileOpen: (statSync(request.envFile).mode & 0o077) !== 0,
        }
      : {}),
    volumes,
    networks,
    containers: withDevices(listed, deviceOf),
    ...(Object.keys(images).length ? { images } : {}),
    paths,
    symlinks,
    devices,
    fileHashes,
    ...(recipe ? { recipe } : {}),
    ...(compose ? { compose } : {}),
    ...(recipe?.unit.type === "compose" ? { composeUse: readComposeHostUse(recipe) } : {}),
    ...(request.as && recipe?.unit.type === "compose"
      ? { copyNaming: readCopyNaming(recipe, request.as, targetDir) }
      : {}),
    ...(process.env.COMPOSE_PROJECT_NAME !== undefined
      ? { inheritedProjectName: process.env.COMPOSE_PROJECT_NAME }
      : {}),
    restoreDir: config.paths.restore_dir,
    hostInternal: config.backup,
    excludePatterns: config.backup.exclude_patterns,
    ...(config.units[point.unit] ? { unitConfig: config.units[point.unit] } : {}),
    hooks: { pre_restore: config.backup.hooks.pre_restore, post_restore: config.backup.hooks.post_restore },
  };
}

/** An image reference, and nothing that reads as a flag (the name is the snapshot's). */
const IMAGE_REF = /^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/;

/**
 * The `Config` of each image the recipe's containers were run from, by that name (`docker run`
 * starts from it): a rebuilt run does not pass again what the image sets itself. One process per
 * image, a few per unit; one that cannot be inspected is left out, and its settings are all passed.
 */
async function imageConfigs(
  docker: Docker,
  recipe: LoadedRecipe,
): Promise<Record<string, Record<string, unknown>>> {
  const refs = new Set<string>();
  for (const inspect of Object.values(recipe.inspects)) {
    const config = inspect.Config;
    const ref = isRecord(config) && typeof config.Image === "string" ? config.Image : "";
    if (IMAGE_REF.test(ref)) refs.add(ref);
  }
  const out: Record<string, Record<string, unknown>> = {};
  for (const ref of refs) {
    const [image] = await docker.imageInspect([ref]).catch(() => []);
    if (image) out[ref] = image.Config;
  }
  return out;
}

/**
 * The keys a docker env file defines (`KEY=value`, or `KEY` alone to pass the caller's value).
 * Values are left in the file: docker reads them, nothing else does.
 */
export function envFileKeys(file: string): string[] {
  if (!existsSync(file)) throw new UsageError(`--env-file ${file}: no such file`);
  return readFileSync(file, "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => (l.split("=")[0] ?? "").trim());
}

/** The trusted directory above recipe files: restore_dir when the target is in it, else the target. */
function fileRoot(targetDir: string, restoreDir: string, given: string | undefined): string {
  if (targetDir.startsWith(`${restoreDir.replace(/\/$/, "")}/`)) return restoreDir;
  // A directory root named (--target-dir) is trusted as it is; the working dir a recipe names is not:
  // every link from / down is checked, as for a bind target.
  return given === targetDir ? targetDir : "/";
}

/** `path` with every symlink in its existing part resolved (the part that does not exist yet kept). */
export function resolveExisting(path: string): string {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st) {
    try {
      return realpathSync(path);
    } catch {
      // A dangling link: resolve its directory and keep the name.
    }
  }
  const parent = dirname(path);
  return parent === path ? path : join(resolveExisting(parent), path.slice(parent.length + 1));
}

function kindOf(path: string): CurrentState["paths"][string] {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return "missing";
  return st.isDirectory() ? "directory" : st.isFile() ? "file" : "other";
}

/** Every container on the host with what it mounts, and whether its unit label is its own. */
export async function listContainers(docker: Docker, config: Config): Promise<ContainerState[]> {
  const ids = (await docker.listContainers()).map((c) => c.id);
  if (ids.length === 0) return [];
  const all = await docker.inspectContainers(ids);
  const unitLabel = await imageUnitLabels(docker, all, config);
  return all.map((c) => {
    const mounts = c.Mounts ?? [];
    return {
      id: c.Id,
      name: c.Name.replace(/^\//, ""),
      running: c.State.Running,
      volumes: mounts.filter((m) => m.Type === "volume").map((m) => m.Name ?? ""),
      binds: mounts.filter((m) => m.Type === "bind").map((m) => m.Source ?? ""),
      labels: c.Config.Labels ?? {},
      ...(unitLabel.has(c.Id) ? { unitLabel: unitLabel.get(c.Id) } : {}),
      ...(c.State.Paused === true ? { paused: true as const } : {}),
      ...(c.HostConfig?.AutoRemove === true ? { autoRemove: true as const } : {}),
      ...(guessDatabase(c.Config.Image) ? { database: true as const } : {}),
      ...(containersNeeded(c).length ? { needs: containersNeeded(c) } : {}),
    };
  });
}

/**
 * Each running container's bind volumes' device directories (`deviceOf`: volume → device): docker
 * reports such a mount as a volume (its mountpoint), yet the container writes into the device, which a
 * restored bind may hold (a bind `/srv/app/data`, a volume with `device=/srv/app/data/uploads`).
 */
function withDevices(containers: ContainerState[], deviceOf: ReadonlyMap<string, string>): ContainerState[] {
  return containers.map((c) => {
    const own = c.running ? c.volumes.flatMap((v) => deviceOf.get(v) ?? []) : [];
    return own.length ? { ...c, devices: own } : c;
  });
}

/**
 * Each stopped container a restore that did not finish holds (`stop-journal.ts`), with why. A journal
 * this process cannot read (a dry run without root) holds nothing known: `heldContainers` warns.
 */
function withHolds(
  containers: ContainerState[],
  journalDir: string | undefined,
  warn: (m: string) => void,
): ContainerState[] {
  if (!journalDir) return containers;
  const held = heldContainers(journalDir, warn);
  return containers.map((c) => {
    const h = c.running ? [] : held.filter((x) => c.id.startsWith(x.id));
    return h[0] ? { ...c, held: h[0].hold, heldBy: [...new Set(h.map((x) => x.unit))] } : c;
  });
}

const unique = (xs: string[]) => [...new Set(xs)];

/** What is at a device path: nothing, an empty directory, one with data (unreadable counts), or else. */
function deviceContent(path: string): NonNullable<CurrentState["devices"]>[string] {
  const kind = kindOf(path);
  if (kind !== "directory") return kind === "missing" ? "missing" : "other";
  try {
    return readdirSync(path).length > 0 ? "data" : "empty";
  } catch {
    return "data";
  }
}

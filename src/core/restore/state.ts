import { existsSync, lstatSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../../config/schema.ts";
import type { Docker } from "../docker/docker.ts";
import { UsageError } from "../errors.ts";
import { renamer } from "./names.ts";
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
): Promise<CurrentState> {
  const targetDir = request.targetDir ?? join(config.paths.restore_dir, request.as ?? point.unit);
  const names = renamer(request.as, targetDir);
  const labelsOf = (n: string) => recipe?.unit.volumes.find((v) => v.name === n)?.labels ?? {};
  const volumeNames = point.volumes.map((v) => names.volume(v.name, labelsOf(v.name)));
  const networkNames = (recipe?.networks ?? []).map((n) => names.network(n.Name, n.Labels ?? {}));
  const volumes: CurrentState["volumes"] = {};
  for (const v of volumeNames.length ? await docker.volumeInspect(volumeNames) : []) {
    volumes[v.Name] = { mountpoint: v.Mountpoint, labels: v.Labels };
  }
  const networks: CurrentState["networks"] = {};
  for (const n of networkNames.length ? await docker.networkInspect(networkNames) : []) {
    networks[n.Name] = {
      driver: n.Driver,
      subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? "").filter(Boolean),
    };
  }
  const paths: CurrentState["paths"] = {};
  for (const b of point.binds) paths[names.bind(b.source)] = kindOf(names.bind(b.source));
  const fileHashes: Record<string, string> = {};
  const stored = recipe?.files.map((f) => f.stored) ?? [];
  const composeStored = recipe?.unit.composeFiles.map((c) => c.stored) ?? [];
  for (const s of stored) {
    const rel = s.startsWith("project/") ? s.slice(8) : composeTargetName(s, composeStored);
    const to = join(targetDir, rel);
    if (existsSync(to) && lstatSync(to).isFile()) fileHashes[to] = sha256File(to);
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
    containers: await listContainers(docker),
    paths,
    fileHashes,
    ...(recipe ? { recipe } : {}),
    restoreDir: config.paths.restore_dir,
    hooks: { pre_restore: config.backup.hooks.pre_restore, post_restore: config.backup.hooks.post_restore },
  };
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

function kindOf(path: string): CurrentState["paths"][string] {
  if (!existsSync(path)) return "missing";
  const st = lstatSync(path);
  return st.isDirectory() ? "directory" : st.isFile() ? "file" : "other";
}

/** Every container on the host with what it mounts. */
export async function listContainers(docker: Docker): Promise<ContainerState[]> {
  const ids = (await docker.listContainers()).map((c) => c.id);
  if (ids.length === 0) return [];
  const all = await docker.inspectContainers(ids);
  return all.map((c) => {
    const mounts = c.Mounts ?? [];
    return {
      id: c.Id,
      name: c.Name.replace(/^\//, ""),
      running: c.State.Running,
      volumes: mounts.filter((m) => m.Type === "volume").map((m) => m.Name ?? ""),
      binds: mounts.filter((m) => m.Type === "bind").map((m) => m.Source ?? ""),
    };
  });
}

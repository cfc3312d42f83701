import { existsSync, lstatSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../../config/schema.ts";
import { volumeData, volumeFacts } from "../discovery/volume-data.ts";
import type { Docker } from "../docker/docker.ts";
import { UsageError } from "../errors.ts";
import { renamer } from "./names.ts";
import type { RestorePoint } from "./points.ts";
import { composeTargetName, type LoadedRecipe, sha256File } from "./recipe.ts";
import type { ContainerState, CurrentState, RestoreRequest } from "./types.ts";

type Obj = Record<string, unknown>;

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
  const networkNames = (recipe?.networks ?? []).map((n) =>
    names.network(String(n.Name), (n.Labels as Record<string, string> | null) ?? {}),
  );
  const volumes: CurrentState["volumes"] = {};
  for (const v of await inspectAll(docker, "volume", volumeNames)) {
    volumes[String(v.Name)] = {
      // Where the data is while nothing runs: a bind volume's device, else the mountpoint.
      mountpoint: volumeDataPath(v),
      labels: (v.Labels as Record<string, string> | null) ?? {},
    };
  }
  const networks: CurrentState["networks"] = {};
  for (const n of await inspectAll(docker, "network", networkNames)) {
    const ipam = (n.IPAM as { Config?: { Subnet?: string }[] | null } | undefined)?.Config ?? [];
    networks[String(n.Name)] = {
      driver: String(n.Driver ?? ""),
      subnets: ipam.map((c) => c.Subnet ?? "").filter(Boolean),
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

/** `docker <kind> inspect` of the names that exist; missing ones are simply absent. */
function volumeDataPath(v: Obj): string {
  const data = volumeData(volumeFacts(v));
  return data.kind === "not_protected" ? String(v.Mountpoint ?? "") : data.path;
}

async function inspectAll(docker: Docker, kind: "volume" | "network", names: string[]): Promise<Obj[]> {
  const out: Obj[] = [];
  for (const name of new Set(names)) {
    const r = await docker.run([kind, "inspect", name], { check: false, timeoutMs: 30_000 });
    if (r.exitCode === 0) out.push(...(JSON.parse(r.stdout) as Obj[]));
  }
  return out;
}

/** Every container on the host with what it mounts. */
export async function listContainers(docker: Docker): Promise<ContainerState[]> {
  const ids = (await docker.run(["ps", "-aq", "--no-trunc"], { timeoutMs: 60_000 })).stdout
    .split("\n")
    .filter(Boolean);
  if (ids.length === 0) return [];
  const r = await docker.run(["inspect", ...ids], { check: false, timeoutMs: 60_000 });
  const all = JSON.parse(r.stdout || "[]") as Obj[];
  return all.map((c) => {
    const mounts = (c.Mounts as { Type?: string; Name?: string; Source?: string }[] | null) ?? [];
    return {
      id: String(c.Id),
      name: String(c.Name).replace(/^\//, ""),
      running: Boolean((c.State as { Running?: boolean } | undefined)?.Running),
      volumes: mounts.filter((m) => m.Type === "volume").map((m) => m.Name ?? ""),
      binds: mounts.filter((m) => m.Type === "bind").map((m) => m.Source ?? ""),
    };
  });
}

import type { Docker } from "../docker/docker.ts";
import { AppError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { failure } from "../process/runner.ts";
import { BUILTIN_NETWORKS } from "./resources.ts";

/** Raw `docker … inspect` output for everything discovery needs, gathered in a fixed number of calls. */
export interface DockerFacts {
  containers: unknown[];
  volumes: unknown[];
  networks: unknown[];
  images: unknown[];
  dockerVersion?: string;
}

/** Beyond this many names one argv is split (ARG_MAX is far away, but stay polite). */
export const ARGV_CHUNK = 1000;
const TIMEOUT_MS = 120_000;
const ALIVE = new Set(["running", "restarting", "paused"]);

/**
 * `docker <cmd> inspect a b c …` in one call per chunk. A name that vanished since `ps` makes docker
 * exit 1 while still printing the rest: the rest is used and the miss is logged, not fatal.
 */
export async function inspectMany(
  docker: Docker,
  cmd: readonly string[],
  names: readonly string[],
  log?: Logger,
): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < names.length; i += ARGV_CHUNK) {
    const chunk = names.slice(i, i + ARGV_CHUNK);
    const r = await docker.run([...cmd, ...chunk], { check: false, timeoutMs: TIMEOUT_MS });
    let parsed: unknown = [];
    try {
      parsed = JSON.parse(r.stdout.trim() || "[]");
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || (r.exitCode !== 0 && r.stdout.trim() === "")) {
      throw new AppError("process_failed", `\`docker ${cmd.join(" ")}\` failed: ${r.stderr.trim()}`);
    }
    if (r.exitCode !== 0) log?.debug(`docker ${cmd.join(" ")}: ${r.stderr.trim()}`);
    out.push(...parsed);
  }
  return out;
}

/** Containers discovery looks at: every live one, and stopped ones that belong to a compose project. */
export function selectContainerIds(psOutput: string): string[] {
  const ids: string[] = [];
  for (const line of psOutput.split("\n")) {
    const [id, state, project] = line.split("\t");
    if (!id?.trim()) continue;
    if (ALIVE.has(state?.trim() ?? "") || (project ?? "").trim() !== "") ids.push(id.trim());
  }
  return ids;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === "object" ? (v as Obj) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Names a list of inspect objects refers to (volume names, network names, image ids), de-duplicated. */
function collect(containers: unknown[], pick: (c: Obj) => unknown[]): string[] {
  const names = new Set<string>();
  for (const c of containers) for (const n of pick(obj(c))) if (typeof n === "string" && n) names.add(n);
  return [...names].sort();
}

/**
 * All facts in six docker processes however many containers there are: version, ps, one container
 * inspect, then volume, network and image inspect side by side.
 */
export async function gatherFacts(docker: Docker, log?: Logger): Promise<DockerFacts> {
  const [version, ps] = await Promise.all([
    docker.requireDaemon(),
    docker.run(
      ["ps", "-a", "--no-trunc", "--format", '{{.ID}}\t{{.State}}\t{{.Label "com.docker.compose.project"}}'],
      { timeoutMs: TIMEOUT_MS, check: false },
    ),
  ]);
  if (ps.exitCode !== 0) throw failure(ps);
  const ids = selectContainerIds(ps.stdout);
  const containers =
    ids.length > 0 ? await inspectMany(docker, ["inspect", "--type", "container"], ids, log) : [];
  const volumeNames = collect(containers, (c) =>
    list(c.Mounts)
      .map(obj)
      .filter((m) => m.Type === "volume")
      .map((m) => m.Name),
  );
  const networkNames = collect(containers, (c) => Object.keys(obj(obj(c.NetworkSettings).Networks))).filter(
    (n) => !BUILTIN_NETWORKS.has(n),
  );
  const imageIds = collect(containers, (c) => [c.Image]);
  const maybe = (cmd: string[], names: string[]) =>
    names.length > 0 ? inspectMany(docker, cmd, names, log) : Promise.resolve([]);
  const [volumes, networks, images] = await Promise.all([
    maybe(["volume", "inspect"], volumeNames),
    maybe(["network", "inspect"], networkNames),
    maybe(["image", "inspect"], imageIds),
  ]);
  return { containers, volumes, networks, images, dockerVersion: version.server };
}

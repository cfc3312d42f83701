import { existsSync, readFileSync, statSync } from "node:fs";
import type { Config } from "../../config/schema.ts";
import type { Docker } from "../docker/docker.ts";
import type { Logger } from "../log.ts";
import { type ComposeFs, composeFilesOf, fillDependsOn, mountTable } from "./compose-files.ts";
import { type DockerFacts, gatherFacts } from "./docker-facts.ts";
import { groupUnits } from "./group.ts";
import { markImageLabels } from "./image-trust.ts";
import type { BindMountInfo, ContainerInfo, Discovery, NetworkInfo, Unit } from "./model.ts";
import { checkNames } from "./name-check.ts";
import { toContainerInfo } from "./parse.ts";
import { unitResources } from "./resources.ts";
import { markShared } from "./shared.ts";
import { pathSize, type SizeBounds } from "./sizes.ts";

export interface DiscoverDeps {
  docker: Docker;
  config: Config;
  log?: Logger;
}

export interface DiscoverOptions {
  /** Walk every volume and bind mount for its size (slow on big data; `list --sizes`). */
  sizes?: boolean | SizeBounds;
  /** Host file system probes; the real disk unless a test injects another. */
  fs?: ComposeFs & { kindOf(path: string): BindMountInfo["kind"] };
  now?: () => Date;
}

/** Larger than any compose file; what the recipe copies is capped alike. */
const MAX_COMPOSE_BYTES = 8 * 1024 * 1024;

export const hostFs: NonNullable<DiscoverOptions["fs"]> = {
  exists: (p) => existsSync(p),
  // The path comes from a container's labels: only a regular file of a compose file's size is read (a
  // fifo would block the run, holding the host lock, and a device would never end).
  readText: (p) => {
    try {
      const st = statSync(p);
      return st.isFile() && st.size <= MAX_COMPOSE_BYTES ? readFileSync(p, "utf8") : undefined;
    } catch {
      return undefined;
    }
  },
  kindOf: (p) => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) return "missing";
    return st.isDirectory() ? "directory" : st.isFile() ? "file" : "other";
  },
};

/** Everything on this Docker host, grouped into backup units. Read-only; a fixed number of docker calls. */
export async function discoverUnits(deps: DiscoverDeps, options: DiscoverOptions = {}): Promise<Discovery> {
  const facts = await gatherFacts(deps.docker);
  const discovery = buildDiscovery(facts, deps.config, options);
  if (options.sizes) await addSizes(discovery, options.sizes === true ? {} : options.sizes);
  return discovery;
}

/** Pure apart from the injected file system: raw docker facts → Discovery. */
export function buildDiscovery(facts: DockerFacts, config: Config, options: DiscoverOptions = {}): Discovery {
  const fs = options.fs ?? hostFs;
  const images = new Map(facts.images.map((img) => [img.Id, img]));
  const containers: ContainerInfo[] = facts.containers.map((raw) => {
    const image = images.get(raw.Image);
    const c = toContainerInfo(raw, image?.RepoDigests);
    // Not in `facts.images`: the image is gone (image inspect leaves out an id it cannot find).
    markImageLabels(c, image?.Config.Labels, config);
    return c;
  });
  const volumes = new Map(facts.volumes.map((v) => [v.Name, v]));
  const networks = new Map<string, Omit<NetworkInfo, "usedBy">>(
    facts.networks.map((n) => [n.Name, { name: n.Name, id: n.Id, driver: n.Driver, inspect: n }]),
  );
  const table = mountTable(containers);
  const units: Unit[] = groupUnits(containers, config).map((draft) => {
    const composeFiles = composeFilesOf(draft.containers, table, fs);
    fillDependsOn(draft.containers, composeFiles, fs);
    const res = unitResources(draft, { volumes, networks, kindOf: fs.kindOf }, config.backup);
    const missing = composeFiles
      .filter((f) => !f.found)
      .map((f) => ({ kind: "compose_file" as const, id: f.labelPath, reason: "not found on this host" }));
    const workingDir = draft.containers.find((c) => c.compose?.workingDir)?.compose?.workingDir;
    const unit: Unit = {
      name: draft.name,
      type: draft.type,
      containers: draft.containers,
      volumes: res.volumes,
      bindMounts: res.bindMounts,
      networks: res.networks,
      composeFiles,
      skipped: [...draft.skipped, ...res.skipped, ...missing],
      mode: draft.mode,
    };
    if (workingDir) unit.workingDir = workingDir;
    if (draft.excluded) unit.excluded = draft.excluded;
    if (draft.skippedContainers.length > 0) unit.skippedContainers = draft.skippedContainers;
    return checkNames(unit);
  });
  markShared(units);
  const hasDb = (u: Unit) => (u.containers.some((c) => c.database) ? 0 : 1);
  units.sort((a, b) => hasDb(a) - hasDb(b) || a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
  const discovery: Discovery = { units, discoveredAt: (options.now?.() ?? new Date()).toISOString() };
  if (facts.dockerVersion) discovery.dockerVersion = facts.dockerVersion;
  return discovery;
}

/** Sizes of every included unit's volumes and bind mounts, a few paths at a time. */
async function addSizes(discovery: Discovery, bounds: SizeBounds): Promise<void> {
  const jobs: (() => Promise<void>)[] = [];
  for (const u of discovery.units.filter((x) => !x.excluded)) {
    for (const item of [...u.volumes, ...u.bindMounts]) {
      if ("notProtected" in item && item.notProtected) continue;
      const path = "mountpoint" in item ? (item.dataPath ?? item.mountpoint) : item.source;
      jobs.push(async () => {
        const r = await pathSize(path, bounds);
        item.sizeBytes = r.bytes;
        if (r.truncated) item.sizeTruncated = true;
      });
    }
  }
  const next = async () => {
    for (let job = jobs.shift(); job; job = jobs.shift()) await job();
  };
  await Promise.all([next(), next(), next(), next()]);
}

import type { ContainerRow, Docker } from "../docker/docker.ts";
import type { ContainerInspect, ImageInspect, NetworkInspect, VolumeInspect } from "../docker/schemas.ts";
import { BUILTIN_NETWORKS } from "./resources.ts";

/** Parsed `docker … inspect` output for everything discovery needs, gathered in a fixed number of calls. */
export interface DockerFacts {
  containers: ContainerInspect[];
  volumes: VolumeInspect[];
  networks: NetworkInspect[];
  images: ImageInspect[];
  dockerVersion?: string;
}

const ALIVE = new Set(["running", "restarting", "paused"]);

/** Containers discovery looks at: every live one, and stopped ones that belong to a compose project. */
export function selectContainerIds(rows: readonly ContainerRow[]): string[] {
  return rows.filter((r) => ALIVE.has(r.state) || r.project !== "").map((r) => r.id);
}

/** Names the containers refer to (volume names, network names, image ids), de-duplicated and sorted. */
function collect(
  containers: readonly ContainerInspect[],
  pick: (c: ContainerInspect) => unknown[],
): string[] {
  const names = new Set<string>();
  for (const c of containers) for (const n of pick(c)) if (typeof n === "string" && n) names.add(n);
  return [...names].sort();
}

/**
 * All facts in six docker processes however many containers there are: version, ps, one container
 * inspect, then volume, network and image inspect side by side.
 */
export async function gatherFacts(docker: Docker): Promise<DockerFacts> {
  // Both asked at once; a daemon that does not answer is reported as such, whichever fails first.
  const [version, rows] = await Promise.allSettled([docker.requireDaemon(), docker.listContainers()]);
  if (version.status === "rejected") throw version.reason;
  if (rows.status === "rejected") throw rows.reason;
  const ids = selectContainerIds(rows.value);
  const containers = ids.length > 0 ? await docker.inspectContainers(ids) : [];
  const volumeNames = collect(containers, (c) =>
    (c.Mounts ?? []).filter((m) => m.Type === "volume").map((m) => m.Name),
  );
  const networkNames = collect(containers, (c) => Object.keys(c.NetworkSettings?.Networks ?? {})).filter(
    (n) => !BUILTIN_NETWORKS.has(n),
  );
  const imageIds = collect(containers, (c) => [c.Image]);
  const none = Promise.resolve([]);
  const [volumes, networks, images] = await Promise.all([
    volumeNames.length > 0 ? docker.volumeInspect(volumeNames) : none,
    networkNames.length > 0 ? docker.networkInspect(networkNames) : none,
    imageIds.length > 0 ? docker.imageInspect(imageIds) : none,
  ]);
  return { containers, volumes, networks, images, dockerVersion: version.value.server };
}

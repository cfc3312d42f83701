import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigSchema } from "../../../../src/config/schema.ts";
import type { DiscoverOptions } from "../../../../src/core/discovery/discover.ts";
import type { DockerFacts } from "../../../../src/core/discovery/docker-facts.ts";
import {
  type ContainerInspect,
  ContainerInspectSchema,
  ImageInspectSchema,
  type Mount,
  NetworkInspectSchema,
  VolumeInspectSchema,
} from "../../../../src/core/docker/schemas.ts";

const dir = join(import.meta.dir, "..", "..", "..", "fixtures", "docker");

/** A captured (v1) or hand-written (v2, portainer) fixture file, parsed. */
export function fixture(scenario: string, file: string): unknown[] {
  try {
    return JSON.parse(readFileSync(join(dir, scenario, file), "utf8"));
  } catch {
    return [];
  }
}

/** The scenario's container inspect objects, parsed as the docker client parses them. */
export function inspected(scenario: string): ContainerInspect[] {
  return ContainerInspectSchema.array().parse(fixture(scenario, "inspect.json"));
}

export function facts(scenario: string): DockerFacts {
  return {
    containers: inspected(scenario),
    volumes: VolumeInspectSchema.array().parse(fixture(scenario, "volumes.json")),
    networks: NetworkInspectSchema.array().parse(fixture(scenario, "networks.json")),
    images: ImageInspectSchema.array().parse(fixture(scenario, "images.json")),
    dockerVersion: "20.10.24",
  };
}

export const config = (raw: Record<string, unknown> = {}) => ConfigSchema.parse(raw);

/** A file system of exactly these files (and their parent directories). */
export function fakeFs(files: Record<string, string>): NonNullable<DiscoverOptions["fs"]> {
  const dirs = new Set<string>();
  for (const f of Object.keys(files)) {
    const parts = f.split("/");
    for (let i = 2; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  return {
    exists: (p) => p in files || dirs.has(p),
    readText: (p) => files[p],
    kindOf: (p) => (p in files ? "file" : dirs.has(p) ? "directory" : "missing"),
  };
}

/**
 * The scenario's host with one more container: a copy of `like`'s inspect, renamed, with these labels
 * set (undefined removes one), these mounts instead of its own, and running or stopped as `running` says.
 */
export function withContainer(
  host: DockerFacts,
  like: string,
  o: { name: string; labels?: Record<string, string | undefined>; mounts?: Mount[]; running?: boolean },
): DockerFacts {
  const base = host.containers.find((c) => c.Name === `/${like}`);
  if (!base) throw new Error(`no container ${like}`);
  const c = structuredClone(base);
  c.Id = `id-${o.name}`;
  c.Name = `/${o.name}`;
  const labels = Object.entries({ ...c.Config.Labels, ...o.labels });
  c.Config.Labels = Object.fromEntries(labels.flatMap(([k, v]) => (v === undefined ? [] : [[k, v]])));
  if (o.mounts) c.Mounts = o.mounts;
  if (o.running !== undefined)
    c.State = { ...c.State, Running: o.running, Status: o.running ? "running" : "exited" };
  return { ...host, containers: [...host.containers, c] };
}

/** A volume mount as docker inspect prints it. */
export const volumeMount = (name: string, rw = true): Mount => ({
  Type: "volume",
  Name: name,
  Source: `/var/lib/docker/volumes/${name}/_data`,
  Destination: "/data",
  RW: rw,
});

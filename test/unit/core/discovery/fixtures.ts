import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigSchema } from "../../../../src/config/schema.ts";
import type { DiscoverOptions } from "../../../../src/core/discovery/discover.ts";
import type { DockerFacts } from "../../../../src/core/discovery/docker-facts.ts";
import {
  type ContainerInspect,
  ContainerInspectSchema,
  ImageInspectSchema,
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

import { expect, test } from "bun:test";
import { hostInternalReason, isAtOrUnder, pathsOverlap } from "../../../../src/core/discovery/bind-filter.ts";
import {
  dependsOnFromYaml,
  type MountEntry,
  resolveComposePath,
} from "../../../../src/core/discovery/compose-files.ts";
import { fakeFs } from "./fixtures.ts";

const table: MountEntry[] = [
  { destination: "/data/compose/6", source: "/srv/stack6" },
  { destination: "/data", source: "/var/lib/docker/volumes/portainer_data/_data" },
];

test("v1 relative path joins the working dir; v2 absolute path is taken as is", () => {
  const fs = fakeFs({ "/opt/a/docker-compose.yml": "", "/opt/b/compose.yaml": "" });
  expect(resolveComposePath("docker-compose.yml", "/opt/a", [], fs)).toEqual({
    labelPath: "docker-compose.yml",
    hostPath: "/opt/a/docker-compose.yml",
    found: true,
  });
  expect(resolveComposePath("/opt/b/compose.yaml", "/elsewhere", [], fs).hostPath).toBe(
    "/opt/b/compose.yaml",
  );
  expect(resolveComposePath("/opt/c/compose.yaml", "/opt/c", [], fs)).toEqual({
    labelPath: "/opt/c/compose.yaml",
    found: false,
  });
});

test("a path that only exists inside a manager container is translated, longest destination first", () => {
  const both = fakeFs({
    "/srv/stack6/docker-compose.yml": "",
    "/var/lib/docker/volumes/portainer_data/_data/compose/6/docker-compose.yml": "",
  });
  expect(resolveComposePath("/data/compose/6/docker-compose.yml", undefined, table, both).hostPath).toBe(
    "/srv/stack6/docker-compose.yml",
  );
  const volumeOnly = fakeFs({
    "/var/lib/docker/volumes/portainer_data/_data/compose/6/docker-compose.yml": "",
  });
  expect(resolveComposePath("docker-compose.yml", "/data/compose/6", table, volumeOnly).hostPath).toBe(
    "/var/lib/docker/volumes/portainer_data/_data/compose/6/docker-compose.yml",
  );
  // "/database" is not under "/data"
  expect(resolveComposePath("/database/x.yml", undefined, table, volumeOnly).found).toBe(false);
});

test("depends_on in list and map form; broken YAML gives nothing", () => {
  const yaml = `
services:
  app:
    image: x
    depends_on: [db, cache]
  worker:
    depends_on:
      db:
        condition: service_healthy
  db:
    image: postgres
`;
  expect(dependsOnFromYaml(yaml)).toEqual({ app: ["db", "cache"], worker: ["db"] });
  expect(dependsOnFromYaml("services: [unclosed")).toEqual({});
  // What compose starts first without a depends_on: the network's service, the volumes' services.
  const implied = `
services:
  app:
    network_mode: "service:vpn"
    volumes_from: [store, "service:conf:ro", "container:outside"]
    depends_on: [vpn]
  vpn: { image: x }
  host: { network_mode: host }
`;
  expect(dependsOnFromYaml(implied)).toEqual({ app: ["vpn", "store", "conf"] });
  expect(dependsOnFromYaml("")).toEqual({});
});

test("host-internal bind filter: at or under a path, base names, / always", () => {
  const cfg = {
    host_internal_paths: ["/proc", "/var/lib/docker", "/etc/"],
    host_internal_basenames: ["docker.sock"],
  };
  expect(hostInternalReason("/", { host_internal_paths: [], host_internal_basenames: [] })).toContain(
    "host root",
  );
  expect(hostInternalReason("/proc", cfg)).toContain("/proc");
  expect(hostInternalReason("/proc/sys/", cfg)).toContain("/proc");
  expect(hostInternalReason("/process", cfg)).toBeUndefined();
  expect(hostInternalReason("/etc", cfg)).toContain("/etc");
  expect(hostInternalReason("/var/lib/docker/volumes/x", cfg)).toContain("/var/lib/docker");
  expect(hostInternalReason("/home/me/docker.sock", cfg)).toContain("docker.sock");
  expect(hostInternalReason("/srv/data", cfg)).toBeUndefined();
  expect(isAtOrUnder("/a/b", "/")).toBe(true);
});

test("pathsOverlap: equal, under or above; `/` only itself; a sibling with the same prefix is not", () => {
  expect(pathsOverlap("/srv/app", "/srv/app/")).toBe(true);
  expect(pathsOverlap("/srv/app/uploads", "/srv/app")).toBe(true);
  expect(pathsOverlap("/srv", "/srv/app")).toBe(true);
  expect(pathsOverlap("/srv/app", "/srv/application")).toBe(false);
  expect(pathsOverlap("/", "/")).toBe(true);
  expect(pathsOverlap("/", "/srv")).toBe(false);
  expect(pathsOverlap("/srv", "/")).toBe(false);
});

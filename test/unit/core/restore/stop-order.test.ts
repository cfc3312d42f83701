import { describe, expect, test } from "bun:test";
import { ConfigSchema } from "../../../../src/config/schema.ts";
import { createDocker } from "../../../../src/core/docker/docker.ts";
import { composeFacts } from "../../../../src/core/restore/compose-facts.ts";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import { listContainers } from "../../../../src/core/restore/state.ts";
import { stopOrder } from "../../../../src/core/restore/stop-order.ts";
import type { ContainerState } from "../../../../src/core/restore/types.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { emptyState, recipe, request, unitBackup } from "./fixtures.ts";

// An in-place restore stopped and started again in `docker ps` order: `app`, whose network is vpn's
// (`network_mode: service:vpn`), was started first, docker refused it, and the unit stayed down. It
// now stops in the reverse of backup's start order and starts in that order (execute.ts).

const PROJECT = "com.docker.compose.project";
const SERVICE = "com.docker.compose.service";
const VPN_ID = "f".repeat(64);
const inspect = (id: string, name: string, image: string, hostConfig: Record<string, unknown>) => ({
  Id: id,
  Name: `/${name}`,
  Image: "sha256:1",
  State: { Status: "running", Running: true },
  Config: { Image: image, Labels: { [PROJECT]: "p", [SERVICE]: name.split("_")[1] } },
  HostConfig: hostConfig,
  Mounts: [{ Type: "volume", Name: "p_data", Source: "/v", Destination: "/data", RW: true }],
});
const starts =
  (...prefix: string[]) =>
  (argv: readonly string[]) =>
    prefix.every((p, i) => argv[i] === p);

describe("restore stops dependents first and starts them last", () => {
  test("docker's inspect says which container's network and volumes one needs (compose v1, no label)", async () => {
    const host = [
      inspect(VPN_ID, "p_vpn_1", "qmcgaw/gluetun", { NetworkMode: "p_default" }),
      inspect("a".repeat(64), "p_app_1", "busybox", { NetworkMode: `container:${VPN_ID}` }),
      inspect("b".repeat(64), "p_db_1", "postgres:16", { NetworkMode: "p_default" }),
      inspect("c".repeat(64), "p_arch_1", "busybox", {
        NetworkMode: "p_default",
        VolumesFrom: ["p_app_1:ro"],
      }),
    ];
    const runner = new FakeRunner([
      { argv: starts("docker", "ps", "-a"), stdout: `${host.map((c) => `${c.Id}\trunning\t`).join("\n")}\n` },
      { argv: starts("docker", "inspect", "--type", "container"), stdout: JSON.stringify(host) },
    ]);
    const listed = await listContainers(createDocker(runner), ConfigSchema.parse({}));
    expect(runner.remaining).toBe(0);
    expect(listed.find((c) => c.name === "p_app_1")?.needs).toEqual([VPN_ID]);
    expect(listed.find((c) => c.name === "p_db_1")?.database).toBe(true);
    // Started: the database, then vpn, app (on vpn's network), arch (app's volumes). Stopped reversed.
    expect(stopOrder(listed, "p", undefined).map((c) => c.name)).toEqual([
      "p_arch_1",
      "p_app_1",
      "p_vpn_1",
      "p_db_1",
    ]);
  });

  test("the point's compose files say what a service of the project depends on, a v2 label first", () => {
    const c = (name: string, labels: Record<string, string> = {}): ContainerState => ({
      id: name,
      name,
      running: true,
      volumes: ["data"],
      binds: [],
      labels: { [PROJECT]: "p", [SERVICE]: name, ...labels },
    });
    const facts = composeFacts([
      "services:\n  a:\n    depends_on: [b]\n  b:\n    network_mode: service:c\n  c: {}\n",
    ]);
    expect(stopOrder([c("a"), c("b"), c("c")], "p", facts).map((x) => x.name)).toEqual(["a", "b", "c"]);
    // Another project's containers are not the point's services; a v2 label is the container's own word.
    expect(stopOrder([c("a"), c("b"), c("c")], "q", facts).map((x) => x.name)).toEqual(["c", "b", "a"]);
    const labelled = [c("a", { "com.docker.compose.depends_on": "c:service_started:false" }), c("b"), c("c")];
    expect(stopOrder(labelled, "p", facts).map((x) => x.name)).toEqual(["b", "a", "c"]);
  });

  test("planRestore's stop list is in stop order: vpn, listed first by docker, is stopped last", () => {
    const points = groupRestorePoints(unitBackup("p", "r1", "2026-01-01T10:00:00Z", ["data"]));
    const r = recipe({
      unit: "p",
      type: "standalone",
      composeFiles: [],
      volumes: [{ name: "data", driver: "local", options: {}, labels: {}, usedBy: ["vpn", "app"] }],
    });
    const c = (name: string, needs: string[] = []): ContainerState => ({
      id: `id-${name}`,
      name,
      running: true,
      volumes: ["data"],
      binds: [],
      labels: { "kopi-docka.unit": "p" },
      ...(needs.length ? { needs } : {}),
    });
    const plan = planRestore(
      request({ unit: "p", point: "p@r1-p", what: "volumes" }),
      points,
      emptyState({
        recipe: r,
        volumes: { data: { mountpoint: "/var/lib/docker/volumes/data/_data", labels: {} } },
        containers: [c("vpn"), c("app", ["id-vpn"])],
      }),
    );
    expect(plan.refusals).toEqual([]);
    expect(plan.stop.map((x) => x.name)).toEqual(["app", "vpn"]);
  });
});

import { describe, expect, test } from "bun:test";
import {
  containersNeeded,
  type OrderFacts,
  startOrder,
} from "../../../../src/core/containers/start-order.ts";
import { ContainerInspectSchema } from "../../../../src/core/docker/schemas.ts";

// Backup starts a unit again, and an in-place restore starts what it stopped, in this one order. Docker
// refuses `docker start` of a container whose network is another's (`network_mode: service:X`, which
// compose writes as `container:<id>`) while that one is stopped: gluetun + a torrent client stayed
// down after every backup when the client's name sorted first.

const facts = (name: string, over: Partial<OrderFacts> = {}): OrderFacts => ({
  id: `${name}-0123456789abcdef`,
  name,
  database: false,
  dependsOn: [],
  needs: [],
  ...over,
});
const order = (items: OrderFacts[]) => startOrder(items, (f) => f).map((f) => f.name);

describe("startOrder", () => {
  test("a container after the one whose network it uses, by id, id prefix or name", () => {
    const vpn = facts("vpn");
    expect(order([facts("app", { needs: [vpn.id] }), vpn])).toEqual(["vpn", "app"]);
    expect(order([facts("app", { needs: ["vpn-0123"] }), vpn])).toEqual(["vpn", "app"]);
    expect(order([facts("app", { needs: ["/vpn"] }), vpn])).toEqual(["vpn", "app"]);
    // A database goes first only among the ones free to go.
    expect(
      order([facts("a", { needs: ["vpn"] }), facts("db", { database: true, needs: ["a"] }), vpn]),
    ).toEqual(["vpn", "a", "db"]);
  });

  test("compose depends_on by service; a dependency outside the list changes nothing", () => {
    const items = [
      facts("p_web_1", { service: "web", dependsOn: ["api", "gone"] }),
      facts("p_api_1", { service: "api", needs: ["elsewhere", "ffff"] }),
      facts("p_aaa_1", { service: "aaa" }),
    ];
    expect(order(items)).toEqual(["p_aaa_1", "p_api_1", "p_web_1"]);
  });

  test("a cycle ends: the first by the tie-break goes, the rest follow the rule", () => {
    const items = [
      facts("c", { needs: ["b"] }),
      facts("b", { needs: ["a"] }),
      facts("a", { needs: ["c"] }),
      facts("self", { needs: ["self"] }),
    ];
    // `self` naming itself is no dependency: it is free to go before the cycle is broken.
    expect(order(items)).toEqual(["self", "a", "b", "c"]);
  });

  test("an id prefix two containers share names neither", () => {
    const items = [facts("z", { needs: ["x"] }), facts("y", { id: "x1" }), facts("w", { id: "x2" })];
    expect(order(items)).toEqual(["w", "y", "z"]);
  });
});

describe("containersNeeded", () => {
  const inspect = (hostConfig: Record<string, unknown>) =>
    ContainerInspectSchema.parse({
      Id: "abc",
      Name: "/app",
      Image: "sha256:1",
      State: { Status: "running", Running: true },
      Config: { Image: "busybox" },
      HostConfig: hostConfig,
    });

  test("network_mode container:X and each volumes_from source, without its :ro/:rw", () => {
    expect(
      containersNeeded(
        inspect({ NetworkMode: "container:4f2a", VolumesFrom: ["store:ro", "conf", "data:rw"] }),
      ),
    ).toEqual(["4f2a", "store", "conf", "data"]);
    expect(containersNeeded(inspect({ NetworkMode: "bridge", VolumesFrom: null }))).toEqual([]);
    expect(containersNeeded(inspect({ NetworkMode: "p_default" }))).toEqual([]);
  });
});

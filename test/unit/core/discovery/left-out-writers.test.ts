import { describe, expect, test } from "bun:test";
import { planBackup } from "../../../../src/core/backup/plan.ts";
import { buildDiscovery } from "../../../../src/core/discovery/discover.ts";
import type { DockerFacts } from "../../../../src/core/discovery/docker-facts.ts";
import type { Unit } from "../../../../src/core/discovery/model.ts";
import { planOpts } from "../backup/fixtures.ts";
import { config, facts, fakeFs, volumeMount, withContainer } from "./fixtures.ts";

// A container left out of a unit's backup (excluded by label, a one-off `compose run`) is not stopped
// by it either: whatever of the unit's data it mounts writable is read live, not a cold copy.
const now = () => new Date("2026-01-02T03:04:05Z");
const fs = fakeFs({ "/opt/stacks/shop/compose.yaml": "", "/opt/stacks/shop/uploads/a.png": "x" });
const discover = (host: DockerFacts) => buildDiscovery(host, config(), { fs, now });
const shop = (units: Unit[]) => units.find((u) => u.name === "shop");
const uploads = { Type: "bind", Source: "/opt/stacks/shop/uploads", Destination: "/u", RW: true };

/** The v2 host with its excluded worker (stopped, read-only in the fixture) running and writing. */
function workerWrites(): DockerFacts {
  const host = facts("v2");
  host.containers = host.containers.map((c) =>
    c.Name === "/shop-worker-1"
      ? { ...c, State: { ...c.State, Running: true, Status: "running" }, Mounts: [uploads] }
      : c,
  );
  return host;
}

describe("running containers left out of a unit count as its data's writers", () => {
  test("as the fixture has it (stopped, read-only) the excluded worker marks nothing", () => {
    const binds = shop(discover(facts("v2")).units)?.bindMounts ?? [];
    expect(binds.length).toBe(2);
    expect(binds.map((b) => b.writtenByOthers)).toEqual([undefined, undefined]);
  });

  test("a running worker excluded by label marks the unit's bind it writes; the plan says ALSO WRITTEN", () => {
    const d = discover(workerWrites());
    const bind = shop(d.units)?.bindMounts.find((b) => b.source === "/opt/stacks/shop/uploads");
    const who = "shop-worker-1 (left out of unit shop: label kopi-docka.exclude=true)";
    expect(bind?.writtenByOthers).toEqual([who]);
    const plan = planBackup(config(), d, now(), planOpts);
    const source = plan.units[0]?.sources.find((s) => s.label === "/opt/stacks/shop/uploads");
    expect(source?.writtenByOthers).toEqual([who]);
    expect(source?.reason).toContain(`ALSO WRITTEN by ${who}`);
    expect(plan.units[0]?.stopOrder.length).toBeGreaterThan(0); // a cold claim the run must correct
  });

  test("a running one-off `compose run` container writing the project's volume marks it", () => {
    const host = withContainer(facts("v2"), "shop-app-1", {
      name: "shop-app-run-3f2a",
      labels: { "com.docker.compose.oneoff": "True" },
      mounts: [volumeMount("shop_pgdata")],
    });
    const u = shop(discover(host).units);
    expect(u?.skipped).toContainEqual({
      kind: "container",
      id: "shop-app-run-3f2a",
      reason: "one-off `compose run` container",
    });
    expect(u?.volumes.find((v) => v.name === "shop_pgdata")?.writtenByOthers).toEqual([
      "shop-app-run-3f2a (left out of unit shop: one-off `compose run` container)",
    ]);
  });

  test("an excluded standalone container writing another unit's volume marks it; read-only does not", () => {
    const host = withContainer(facts("v1"), "kdfixture-solo", {
      name: "agent",
      labels: { "kopi-docka.unit": undefined, "kopi-docka.exclude": "true" },
      mounts: [volumeMount("kdfixture_dbdata")],
    });
    const reader = withContainer(host, "kdfixture-solo", {
      name: "reader",
      labels: { "kopi-docka.unit": undefined, "kopi-docka.exclude": "true" },
      mounts: [volumeMount("kdfixture_dbdata", false)],
    });
    const d = buildDiscovery(reader, config(), { fs: fakeFs({}), now });
    expect(d.units.find((u) => u.name === "kdfixture")?.volumes[0]?.writtenByOthers).toEqual([
      "agent (left out of unit agent: label kopi-docka.exclude=true)",
    ]);
    expect(d.units.find((u) => u.name === "agent")?.excluded).toStartWith("every container is excluded");
  });

  test("a stopped left-out container writes nothing", () => {
    const host = withContainer(facts("v2"), "shop-app-1", {
      name: "shop-app-run-3f2a",
      labels: { "com.docker.compose.oneoff": "True" },
      mounts: [volumeMount("shop_pgdata")],
      running: false,
    });
    expect(shop(discover(host).units)?.volumes[0]?.writtenByOthers).toBeUndefined();
  });
});

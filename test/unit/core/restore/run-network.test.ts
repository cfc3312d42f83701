import { describe, expect, test } from "bun:test";
import { rebuildDockerRun } from "../../../../src/core/restore/docker-run.ts";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import type { ContainerState, StartStep } from "../../../../src/core/restore/types.ts";
import { emptyState, recipe, request, unitBackup } from "./fixtures.ts";

// `docker run --network container:app sidecar`: docker records the id of `app`, never its name, and a
// DR host gives `app` a new id. The rebuilt run names `app` (this backup's, or this host's by that id),
// or the plan refuses to start the sidecar, saying how to start it by hand.
const APP_ID = "bd09".padEnd(64, "a");
const OTHER_ID = "cafe".padEnd(64, "b");
const sidecar = (ref: string) => ({
  Id: "5dec".padEnd(64, "c"),
  Name: "/sidecar",
  Config: { Image: "busybox", Env: [] },
  HostConfig: { NetworkMode: `container:${ref}` },
  NetworkSettings: { Networks: {} },
});
const app = { Id: APP_ID, Name: "/app", Config: { Image: "busybox", Env: [] }, HostConfig: {} };

const points = groupRestorePoints(unitBackup("web", "r1", "2026-01-01T10:00:00Z", ["web_data"]));
const plan = (ref: string, o: { containers?: ContainerState[]; as?: string } = {}) => {
  const r = recipe({
    unit: "web",
    type: "standalone",
    workingDir: null,
    // The sidecar first: it must still run after the container whose network it joins.
    containers: [
      { name: "sidecar", image: "busybox" },
      { name: "app", image: "busybox" },
    ],
    volumes: [{ name: "web_data", driver: "local", options: {}, labels: {}, usedBy: ["app"] }],
    networks: [],
  });
  r.inspects = { sidecar: sidecar(ref), app };
  r.networks = [];
  return planRestore(
    request({ unit: "web", point: "web@r1-web", start: true, ...(o.as ? { as: o.as } : {}) }),
    points,
    emptyState({ recipe: r, containers: o.containers ?? [] }),
  );
};
const networkOf = (argv: string[]) =>
  argv.includes("--network") ? argv[argv.indexOf("--network") + 1] : undefined;
const runs = (start: StartStep | undefined) =>
  start?.kind === "run" ? start.containers.map((c) => [c.name, networkOf(c.argv)]) : [];

describe("a container sharing another's network (container:<id>)", () => {
  test("one of this backup's: named, and run after it", () => {
    const p = plan(APP_ID);
    expect(p.refusals).toEqual([]);
    expect(runs(p.start)).toEqual([
      ["app", undefined],
      ["sidecar", "container:app"],
    ]);
  });

  test("a copy (--as) joins the copy's container", () => {
    const p = plan(APP_ID, { as: "web2" });
    expect(runs(p.start)).toEqual([
      ["web2_app", undefined],
      ["web2_sidecar", "container:web2_app"],
    ]);
  });

  test("one on this host with that id: named", () => {
    const here: ContainerState = { id: OTHER_ID, name: "proxy", running: true, volumes: [], binds: [] };
    const p = plan(OTHER_ID, { containers: [here] });
    expect(p.refusals).toEqual([]);
    expect(runs(p.start)).toContainEqual(["sidecar", "container:proxy"]);
  });

  test("one known nowhere: its start is refused, saying how to start it by hand", () => {
    const p = plan(OTHER_ID);
    expect(p.refusals).toEqual([
      "sidecar: it shares the network of container cafebbbbbbbb, which is neither in this backup nor on this host; " +
        "restore without --start and start it by hand with --network container:NAME",
    ]);
  });

  test("the recorded reference is untrusted: never passed on, compared only as an id or a name", () => {
    for (const ref of ["--privileged", "", "app --privileged", "../app"]) {
      const r = rebuildDockerRun(sidecar(ref), { networkContainer: () => "app" });
      expect(r.argv.join(" ")).not.toContain(ref || "container:app");
      expect(r.refused).toContain("shares the network of container");
    }
    // What the resolver answers goes into argv only as a container name.
    const bad = rebuildDockerRun(sidecar(APP_ID), { networkContainer: () => "-x" });
    expect(bad.argv).not.toContain("container:-x");
    expect(bad.refused).toContain("shares the network of container bd09aaaaaaaa");
  });
});

describe("a network the container shares with the host or another container", () => {
  test("is named in the plan, as privileges are: as recorded in the backup", () => {
    const host = rebuildDockerRun({ ...app, HostConfig: { NetworkMode: "host" } });
    expect(host.argv).toContain("host");
    expect(host.warnings).toEqual(["app: uses the host's network, as recorded in the backup"]);
    const joined = rebuildDockerRun(sidecar(APP_ID), { networkContainer: () => "web2_app" });
    expect(joined.warnings).toEqual(["sidecar: uses web2_app's network, as recorded in the backup"]);
  });

  test("a network of its own says nothing", () => {
    for (const NetworkMode of ["default", "bridge", "none", "appnet"])
      expect(rebuildDockerRun({ ...app, HostConfig: { NetworkMode } }).warnings).toEqual([]);
  });
});

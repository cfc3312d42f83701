import { describe, expect, test } from "bun:test";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import { emptyState, recipe, request, unitBackup } from "./fixtures.ts";

// A standalone unit "blog" whose volume is named pgdata, restored onto a host where pgdata exists.
const points = groupRestorePoints(unitBackup("blog", "r1", "2026-01-01T10:00:00Z", ["pgdata"]));
const blog = recipe({
  unit: "blog",
  type: "standalone",
  composeFiles: [],
  volumes: [{ name: "pgdata", driver: "local", options: {}, labels: {}, usedBy: ["blog"] }],
});
const pgdata = (labels: Record<string, string> = {}) => ({
  pgdata: { mountpoint: "/var/lib/docker/volumes/pgdata/_data", labels },
});
const container = (name: string, labels: Record<string, string> = {}, running = true) => ({
  id: name,
  name,
  running,
  volumes: ["pgdata"],
  binds: [],
  labels,
});
const inPlace = request({ unit: "blog", point: "blog@r1-blog", what: "volumes" });

describe("planRestore in place: a volume another unit owns on this host is never replaced", () => {
  test("mounted by another unit's container (even stopped): refused, naming it", () => {
    const state = emptyState({
      recipe: blog,
      volumes: pgdata(),
      containers: [container("shop-db", {}, false)],
    });
    expect(planRestore(inPlace, points, state).refusals).toEqual([
      "volume pgdata on this host belongs to unit shop-db (mounted by shop-db), not blog: restoring in place would replace its data; restore a copy beside it (--as NAME), or remove or rename that volume first",
    ]);
  });

  test("labelled as another compose project's: refused", () => {
    const state = emptyState({ recipe: blog, volumes: pgdata({ "com.docker.compose.project": "shop" }) });
    expect(planRestore(inPlace, points, state).refusals[0]).toStartWith(
      "volume pgdata on this host belongs to unit shop, not blog:",
    );
  });

  test("this unit's (by its container, or shared with another unit's), or nobody's: restored", () => {
    for (const containers of [[container("blog")], [container("blog"), container("worker")], []]) {
      const plan = planRestore(inPlace, points, emptyState({ recipe: blog, volumes: pgdata(), containers }));
      expect(plan.refusals).toEqual([]);
      expect(plan.volumes[0]?.action).toBe("overwrite");
    }
  });
});

describe("planRestore: a --rm container that uses what is restored", () => {
  test("is never stopped by the restore: refused, saying how", () => {
    const rm = { ...container("blog"), autoRemove: true as const };
    const plan = planRestore(
      inPlace,
      points,
      emptyState({ recipe: blog, volumes: pgdata(), containers: [rm] }),
    );
    expect(plan.refusals).toEqual([
      "blog uses what is restored and was started with --rm: stopping it would delete it and its anonymous volumes, so the restore cannot stop it and start it again; stop it yourself (docker stop blog), restore, then run it again, or restore a copy (--as NAME)",
    ]);
    // Not running: nothing to stop, nothing refused.
    const idle = planRestore(
      inPlace,
      points,
      emptyState({ recipe: blog, volumes: pgdata(), containers: [{ ...rm, running: false }] }),
    );
    expect(idle.refusals).toEqual([]);
  });
});

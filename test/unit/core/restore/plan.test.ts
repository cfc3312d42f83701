import { describe, expect, test } from "bun:test";
import { UsageError } from "../../../../src/core/errors.ts";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import { exitCodeFor } from "../../../../src/exit-codes.ts";
import { emptyState, recipe, request, unitBackup } from "./fixtures.ts";

const points = groupRestorePoints(unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["shop_db"]));

describe("planRestore", () => {
  test("on an empty host: creates the volume with its labels, the network, the files; stops nothing", () => {
    const plan = planRestore(request({ start: true }), points, emptyState({ recipe: recipe() }));
    expect(plan.stop).toEqual([]);
    expect(plan.undo).toEqual([]);
    expect(plan.volumes).toMatchObject([
      { name: "shop_db", action: "create", labels: { "com.docker.compose.volume": "db" } },
    ]);
    expect(plan.networks.map((n) => [n.name, n.action])).toEqual([["shop_default", "create"]]);
    expect(plan.files.map((f) => [f.to, f.action])).toEqual([
      ["/opt/stacks/shop/docker-compose.yml", "create"],
      ["/opt/stacks/shop/.env", "create"],
    ]);
    expect(plan.start).toEqual({
      kind: "compose",
      project: "shop",
      files: ["/opt/stacks/shop/docker-compose.yml"],
      cwd: "/opt/stacks/shop",
    });
  });

  test("in place: stops only running users of the volume, takes an undo point, names overwritten files", () => {
    const state = emptyState({
      recipe: recipe(),
      volumes: { shop_db: { mountpoint: "/var/lib/docker/volumes/shop_db/_data", labels: {} } },
      networks: { shop_default: { driver: "bridge", subnets: ["10.9.0.0/16"] } },
      containers: [
        {
          id: "c1",
          name: "shop_db_1",
          running: true,
          volumes: ["shop_db"],
          binds: [],
          labels: { "com.docker.compose.project": "shop" },
        },
        { id: "c2", name: "other", running: true, volumes: ["other_vol"], binds: [] },
        { id: "c3", name: "stopped", running: false, volumes: ["shop_db"], binds: [] },
      ],
      fileHashes: { "/opt/stacks/shop/docker-compose.yml": "aaa", "/opt/stacks/shop/.env": "changed" },
    });
    const plan = planRestore(request(), points, state);
    expect(plan.stop).toEqual([{ id: "c1", name: "shop_db_1" }]);
    expect(plan.undo).toEqual([
      { kind: "volume", name: "shop_db", path: "/var/lib/docker/volumes/shop_db/_data" },
    ]);
    expect(plan.volumes[0]?.action).toBe("overwrite");
    expect(plan.files.map((f) => f.action)).toEqual(["same", "overwrite"]);
    // a different subnet is a conflict: refused unless --recreate-networks
    expect(plan.networks[0]).toMatchObject({ action: "conflict" });
    expect(plan.refusals).toEqual([
      "network shop_default exists with driver bridge, subnet 10.9.0.0/16; the backup has bridge, " +
        "172.30.0.0/16; --recreate-networks replaces it",
      "/opt/stacks/shop holds other versions of .env than the backup: move them away, or replace them " +
        "with --replace-files (each old one is kept as <file>.bak-<time>), or restore next to them with " +
        "--as NAME or --target-dir DIR",
    ]);
    const allowed = planRestore(request({ recreateNetworks: true, replaceFiles: true }), points, state);
    expect(allowed.networks[0]?.action).toBe("recreate");
    expect(allowed.refusals).toEqual([]);
  });

  test("exclude patterns: replacing a volume in place warns that what they match comes back missing", () => {
    const volumes = { shop_db: { mountpoint: "/var/lib/docker/volumes/shop_db/_data", labels: {} } };
    const excludePatterns = ["*.log", "cache/"];
    const plan = planRestore(request(), points, emptyState({ recipe: recipe(), volumes, excludePatterns }));
    expect(plan.warnings).toContain(
      "files matching *.log, cache/ (backup.exclude_patterns) are not in backups: shop_db comes back without them; today's go into the undo point",
    );
    // Nothing is replaced (a new volume), or no patterns: no such warning.
    const fresh = planRestore(request(), points, emptyState({ recipe: recipe(), excludePatterns }));
    const none = planRestore(request(), points, emptyState({ recipe: recipe(), volumes }));
    for (const p of [fresh, none])
      expect(p.warnings.filter((w) => w.includes("exclude_patterns"))).toEqual([]);
  });

  test("--as renames compose objects under the new project and writes to its own dir", () => {
    const plan = planRestore(request({ as: "shop2", start: true }), points, emptyState({ recipe: recipe() }));
    expect(plan.volumes[0]).toMatchObject({
      name: "shop2_db",
      from: "shop_db",
      labels: { "com.docker.compose.project": "shop2" },
    });
    expect(plan.networks[0]?.name).toBe("shop2_default");
    expect(plan.targetDir).toBe("/opt/stacks/shop2");
    expect(plan.start).toMatchObject({ kind: "compose", project: "shop2" });
  });

  test("an older point chosen over a newer incomplete one says so in the warnings", () => {
    const withBroken = groupRestorePoints([
      ...unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["shop_db"]),
      ...unitBackup("shop", "r2", "2026-01-02T10:00:00Z", ["shop_db"], { incompleteVolume: "shop_db" }),
    ]);
    const plan = planRestore(request(), withBroken, emptyState({ recipe: recipe() }));
    expect(plan.warnings.join("\n")).toContain(
      "a newer point, shop@r2-shop (2026-01-02T10:00:00Z), is incomplete",
    );
    expect(planRestore(request(), points, emptyState({ recipe: recipe() })).warnings).toEqual([]);
  });

  test("recipe only touches no data; an unknown volume is a bad flag (exit 2) naming the point's volumes", () => {
    const plan = planRestore(request({ what: "recipe" }), points, emptyState({ recipe: recipe() }));
    expect([plan.volumes, plan.binds, plan.stop, plan.networks]).toEqual([[], [], [], []]);
    expect(plan.files.length).toBe(2);
    let e: unknown;
    try {
      planRestore(
        request({ what: "volumes", volumes: ["shop_db", "nope"] }),
        points,
        emptyState({ recipe: recipe() }),
      );
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(UsageError);
    expect(exitCodeFor(e)).toBe(2);
    expect((e as UsageError).message).toMatch(/^--volume: restore point shop@r\d-shop has no volume nope$/);
    expect((e as UsageError).hint).toBe("volumes in it: shop_db");
  });
});

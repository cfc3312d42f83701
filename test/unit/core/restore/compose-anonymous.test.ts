import { describe, expect, test } from "bun:test";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import type { LoadedRecipe } from "../../../../src/core/restore/recipe.ts";
import { renderRestorePlan } from "../../../../src/ui/restore-report.ts";
import { emptyState, recipe, request, unitBackup } from "./fixtures.ts";

/** The name docker gives an anonymous volume: 64 hex digits. */
const ANON = "dfc787".padEnd(64, "0");
const points = groupRestorePoints(unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["shop_db", ANON]));

/** shop's db service with a named volume and an anonymous one (`- /anon`, or an image's VOLUME). */
function stack(): LoadedRecipe {
  const r = recipe({ workingDir: "/srv/shop" });
  r.unit.volumes.push({ name: ANON, driver: "local", options: {}, labels: {}, usedBy: ["shop_db_1"] });
  r.inspects.shop_db_1 = {
    ...r.inspects.shop_db_1,
    Mounts: [
      { Type: "volume", Name: "shop_db", Destination: "/var/lib/db", RW: true },
      { Type: "volume", Name: ANON, Destination: "/anon", RW: true },
    ],
  };
  return r;
}
const state = () => emptyState({ recipe: stack(), compose: { version: "3", networks: {} } });
const OVERRIDE = "/srv/shop/docker-compose.kopi-docka.yml";

describe("a compose unit's anonymous volume comes back in the volume its data was restored into", () => {
  test("in place with --start: an override mounts it by name, external, and compose up gets it", () => {
    const plan = planRestore(request({ start: true }), points, state());
    expect(plan.volumes.map((v) => [v.name, v.action])).toEqual([
      ["shop_db", "create"],
      [ANON, "create"],
    ]);
    expect(plan.override?.binds).toEqual([]);
    expect(plan.override?.volumes).toEqual([{ service: "db", name: ANON, target: "/anon", readOnly: false }]);
    expect(Bun.YAML.parse(plan.override?.content ?? "")).toEqual({
      version: "3",
      services: { db: { volumes: [`${ANON}:/anon`] } },
      volumes: { [ANON]: { external: true } },
    });
    expect(plan.start).toEqual({
      kind: "compose",
      project: "shop",
      files: ["/srv/shop/docker-compose.yml", OVERRIDE],
      cwd: "/srv/shop",
    });
    expect(plan.refusals).toEqual([]);
    expect(renderRestorePlan(plan)).toContain(
      `               db: volume ${ANON} -> /anon (anonymous at the backup)`,
    );
  });

  test("without --start: the override is written and a warning says how to start on it", () => {
    const plan = planRestore(request(), points, state());
    expect(plan.override?.path).toBe(OVERRIDE);
    expect(plan.warnings).toContainEqual(
      `${OVERRIDE} pins the mounts to the restored data: start the unit with docker-compose -p shop ` +
        `--project-directory /srv/shop -f /srv/shop/docker-compose.yml -f ${OVERRIDE} up -d ` +
        "(once it runs, a plain `up` keeps the same volumes)",
    );
  });

  test("a relocated copy with a pinned bind: the note says the override is always needed", () => {
    const r = stack();
    r.unit.bindMounts.push({ source: "/tmp/x/outside/single.conf", targets: [], kind: "file" });
    const db = r.inspects.shop_db_1 ?? {};
    db.Mounts = [
      ...(Array.isArray(db.Mounts) ? db.Mounts : []),
      { Type: "bind", Source: "/tmp/x/outside/single.conf", Destination: "/etc/single.conf", RW: true },
    ];
    const withBind = groupRestorePoints(
      unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["shop_db", ANON], {
        binds: ["/tmp/x/outside/single.conf"],
      }),
    );
    const plan = planRestore(request({ as: "c2", targetDir: "/d" }), withBind, { ...state(), recipe: r });
    const note = plan.warnings.find((w) => w.includes("pins the mounts"));
    expect(note).toEndWith(
      "up -d (always with this override: without it compose mounts the original's host paths)",
    );
    expect(note).not.toContain("plain `up`");
  });

  test("a copy mounts its own restored copy of it", () => {
    const plan = planRestore(request({ as: "shop2", start: true }), points, state());
    expect(plan.volumes.map((v) => v.name)).toContain(`shop2_${ANON}`);
    expect(plan.override?.volumes).toEqual([
      { service: "db", name: `shop2_${ANON}`, target: "/anon", readOnly: false },
    ]);
    expect(Bun.YAML.parse(plan.override?.content ?? "")).toMatchObject({
      volumes: { [`shop2_${ANON}`]: { external: true } },
    });
  });

  test("not restored (another --volume chosen): nothing pinned, compose makes its own as ever", () => {
    const plan = planRestore(request({ start: true, volumes: ["shop_db"] }), points, state());
    expect(plan.override).toBeUndefined();
  });

  test("a volume the compose files name (its compose label) is left to them, even with a hex name", () => {
    const r = stack();
    const anon = r.unit.volumes.find((v) => v.name === ANON);
    if (anon) anon.labels = { "com.docker.compose.volume": "data" };
    const plan = planRestore(request({ start: true }), points, { ...state(), recipe: r });
    expect(plan.override).toBeUndefined();
  });
});

describe("a service scaled to several containers", () => {
  test("--start warns that compose starts one, with the --scale that brings the others back", () => {
    const r = stack();
    r.unit.containers.push({ name: "shop_db_2", service: "db", image: "postgres:16", running: true });
    const plan = planRestore(request({ start: true }), points, { ...state(), recipe: r });
    expect(plan.warnings).toContain(
      "--start: service db ran 2 containers at the backup; compose starts one (scale it again with " +
        "up -d --scale db=2); its anonymous volumes are the first container's, which every replica would then share",
    );
    expect(planRestore(request({ start: true }), points, state()).warnings).toEqual([]);
  });
});

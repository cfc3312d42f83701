import { describe, expect, test } from "bun:test";
import { composeFacts, fixedByUser } from "../../../../src/core/restore/compose-facts.ts";
import { copyBindPath } from "../../../../src/core/restore/names.ts";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import type { LoadedRecipe } from "../../../../src/core/restore/recipe.ts";
import type { CurrentState } from "../../../../src/core/restore/types.ts";
import { UnsafePathError } from "../../../../src/core/safe-paths.ts";
import { renderRestorePlan } from "../../../../src/ui/restore-report.ts";
import { emptyState, manifest, recipe, request, unitBackup } from "./fixtures.ts";

const base = { unit: "shop", backup_id: "r1-shop", run_id: "r1", timestamp: "2026-01-01T10:00:00Z" };
/** shop's point r1 with a relative bind (/srv/shop/uploads) and an absolute one outside (/data/shared). */
const points = groupRestorePoints([
  ...unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["shop_db"]),
  manifest({ ...base, type: "bind", bind_source: "/srv/shop/uploads", bind_destination: "/srv/uploads" }),
  manifest({ ...base, type: "bind", bind_source: "/data/shared", bind_destination: "/shared" }),
]);

function stack(workingDir: string | null = "/srv/shop"): LoadedRecipe {
  const r = recipe({
    workingDir,
    bindMounts: [
      { source: "/srv/shop/uploads", targets: [], kind: "directory" },
      { source: "/data/shared", targets: [], kind: "directory" },
    ],
  });
  r.inspects.shop_db_1 = {
    ...r.inspects.shop_db_1,
    Mounts: [
      { Type: "volume", Name: "shop_db", Destination: "/var/lib/db" },
      { Type: "bind", Source: "/srv/shop/uploads", Destination: "/srv/uploads", RW: true },
      { Type: "bind", Source: "/data/shared", Destination: "/shared", RW: false },
      { Type: "bind", Source: "/var/run/docker.sock", Destination: "/var/run/docker.sock", RW: true },
    ],
  };
  return r;
}
const state = (over: Partial<CurrentState> = {}) =>
  emptyState({ recipe: stack(), compose: { version: "3", networks: {} }, ...over });

describe("where a compose unit comes back", () => {
  test("in place: files back to the directory it was backed up from, started there, no override", () => {
    const plan = planRestore(request({ start: true }), points, state());
    expect(plan.targetDir).toBe("/srv/shop");
    expect(plan.files.map((f) => f.to)).toEqual(["/srv/shop/docker-compose.yml", "/srv/shop/.env"]);
    expect(plan.binds.map((b) => b.path)).toEqual(["/srv/shop/uploads", "/data/shared"]);
    expect(plan.override).toBeUndefined();
    expect(plan.start).toEqual({
      kind: "compose",
      project: "shop",
      files: ["/srv/shop/docker-compose.yml"],
      cwd: "/srv/shop",
    });
    expect(renderRestorePlan(plan)).toContain(
      "  into       /srv/shop (the project directory it was backed up from)",
    );
  });

  test("a directory holding the same files is fine; different ones are refused unless --replace-files", () => {
    const same = { "/srv/shop/docker-compose.yml": "aaa", "/srv/shop/.env": "bbb" };
    expect(planRestore(request(), points, state({ fileHashes: same })).refusals).toEqual([]);
    const edited = { ...same, "/srv/shop/docker-compose.yml": "edited" };
    const refused = planRestore(request(), points, state({ fileHashes: edited }));
    expect(refused.refusals).toEqual([
      "/srv/shop holds other versions of docker-compose.yml than the backup: move them away, or replace " +
        "them with --replace-files (each old one is kept as <file>.bak-<time>), or restore next to them " +
        "with --as NAME or --target-dir DIR",
    ]);
    expect(renderRestorePlan(refused).join("\n")).toContain("REFUSED: /srv/shop holds other versions");
    const replaced = planRestore(request({ replaceFiles: true }), points, state({ fileHashes: edited }));
    expect(replaced.refusals).toEqual([]);
    expect(replaced.files.map((f) => f.action)).toEqual(["overwrite", "same"]);
  });

  test("--as: binds under the project dir keep their place in the copy's dir, others go under binds/", () => {
    const plan = planRestore(request({ as: "shop2", start: true }), points, state());
    expect(plan.targetDir).toBe("/opt/stacks/shop2");
    expect(plan.binds.map((b) => b.path)).toEqual([
      "/opt/stacks/shop2/uploads",
      "/opt/stacks/shop2/binds/data/shared",
    ]);
    expect(plan.warnings).toEqual([]);
    expect(plan.override?.binds).toEqual([
      { service: "db", source: "/opt/stacks/shop2/uploads", target: "/srv/uploads", readOnly: false },
      { service: "db", source: "/opt/stacks/shop2/binds/data/shared", target: "/shared", readOnly: true },
      // Not in the backup: mounted as it was.
      { service: "db", source: "/var/run/docker.sock", target: "/var/run/docker.sock", readOnly: false },
    ]);
    expect(plan.override?.content).toBe(
      "# Written by kopi-docka restore: mounts each bind mount from where its data was restored.\n" +
        'version: "3"\nservices:\n  "db":\n    volumes:\n' +
        '      - "/opt/stacks/shop2/uploads:/srv/uploads"\n' +
        '      - "/opt/stacks/shop2/binds/data/shared:/shared:ro"\n' +
        '      - "/var/run/docker.sock:/var/run/docker.sock"\n',
    );
    expect(plan.start).toEqual({
      kind: "compose",
      project: "shop2",
      files: ["/opt/stacks/shop2/docker-compose.yml", "/opt/stacks/shop2/docker-compose.kopi-docka.yml"],
      cwd: "/opt/stacks/shop2",
    });
    const text = renderRestorePlan(plan).join("\n");
    expect(text).toContain("write      file /opt/stacks/shop2/docker-compose.kopi-docka.yml");
    expect(text).toContain("db: /opt/stacks/shop2/binds/data/shared -> /shared (read-only)");
  });

  test("--target-dir elsewhere: data in place, the override mounts it from its original paths", () => {
    const plan = planRestore(request({ targetDir: "/tmp/look", start: true }), points, state());
    expect(plan.binds.map((b) => b.path)).toEqual(["/srv/shop/uploads", "/data/shared"]);
    expect(plan.files[0]?.to).toBe("/tmp/look/docker-compose.yml");
    expect(plan.override?.binds[0]).toEqual({
      service: "db",
      source: "/srv/shop/uploads",
      target: "/srv/uploads",
      readOnly: false,
    });
    // --target-dir naming the original directory is in place.
    expect(planRestore(request({ targetDir: "/srv/shop" }), points, state()).override).toBeUndefined();
  });

  test("a recipe without a usable working dir: relocated to <restore_dir>/<unit> with an override", () => {
    for (const wd of [null, "srv/shop", "/srv/shop/../../etc", "/"]) {
      const plan = planRestore(request(), points, state({ recipe: stack(wd) }));
      expect(plan.targetDir).toBe("/opt/stacks/shop");
      expect(plan.override?.path).toBe("/opt/stacks/shop/docker-compose.kopi-docka.yml");
    }
  });

  test("a copy's bind path stays under its dir whatever the source says", () => {
    // A source that climbs out is refused, not folded back in (the stricter choice: a recipe never holds one).
    expect(() => copyBindPath("/srv/shop/a/../../../etc", "/opt/stacks/c", "/srv/shop")).toThrow(
      UnsafePathError,
    );
    expect(copyBindPath("/srv/shop/x/y", "/opt/stacks/c", "/srv/shop")).toBe("/opt/stacks/c/x/y");
    expect(copyBindPath("/srv/shopping", "/opt/stacks/c", "/srv/shop")).toBe(
      "/opt/stacks/c/binds/srv/shopping",
    );
    expect(copyBindPath("rel", "/opt/stacks/c")).toBe("/opt/stacks/c/binds/rel");
  });
});

describe("networks: only a driver or subnet the user fixed counts", () => {
  const auto = { version: "3", networks: { default: { driver: false, subnet: false } } };
  const other = { shop_default: { driver: "bridge", subnets: ["10.99.0.0/16"] } };

  test("an auto-assigned compose subnet is created without pinning it, and another subnet is no conflict", () => {
    const fresh = planRestore(request(), points, state({ compose: auto }));
    expect(fresh.networks[0]).toMatchObject({ action: "create", pinSubnets: false });
    const taken = planRestore(request(), points, state({ compose: auto, networks: other }));
    expect(taken.networks[0]).toMatchObject({ action: "keep" });
    expect(taken.refusals).toEqual([]);
  });

  test("a subnet fixed in the compose file is pinned, and another subnet is a conflict", () => {
    const fixed = { networks: { default: { driver: false, subnet: true } } };
    expect(planRestore(request(), points, state({ compose: fixed })).networks[0]?.pinSubnets).toBe(true);
    const plan = planRestore(request(), points, state({ compose: fixed, networks: other }));
    expect(plan.networks[0]?.action).toBe("conflict");
  });

  test("a driver counts only when the compose file sets it", () => {
    const overlay = { shop_default: { driver: "overlay", subnets: ["172.30.0.0/16"] } };
    expect(
      planRestore(request(), points, state({ compose: auto, networks: overlay })).networks[0]?.action,
    ).toBe("keep");
    const fixed = { networks: { default: { driver: true, subnet: false } } };
    expect(
      planRestore(request(), points, state({ compose: fixed, networks: overlay })).networks[0]?.action,
    ).toBe("conflict");
  });

  test("compose files not read, or a network not made by compose: both count as fixed", () => {
    expect(fixedByUser({ "com.docker.compose.network": "default" }, undefined)).toEqual({
      driver: true,
      subnet: true,
    });
    expect(fixedByUser({}, auto)).toEqual({ driver: true, subnet: true });
    expect(fixedByUser({ "com.docker.compose.network": "back" }, auto)).toEqual({
      driver: false,
      subnet: false,
    });
  });

  test("composeFacts reads version and what each file fixes; later files add to earlier ones", () => {
    const a = 'version: "2.4"\nnetworks:\n  back:\n  front:\n    driver: bridge\n';
    const b = "networks:\n  back:\n    ipam:\n      config:\n        - subnet: 10.5.0.0/16\n  side: {}\n";
    expect(composeFacts([a, b])).toEqual({
      version: "2.4",
      networks: {
        back: { driver: false, subnet: true },
        front: { driver: true, subnet: false },
        side: { driver: false, subnet: false },
      },
    });
    expect(composeFacts(["services: [unclosed"])).toBeUndefined();
  });
});

test("a standalone copy mounts the backed-up binds from its own dir, others as they were", () => {
  const r = recipe({ type: "standalone", workingDir: null, containers: [{ name: "web", image: "busybox" }] });
  r.inspects = {
    web: {
      Config: { Image: "busybox", Env: [] },
      Mounts: [
        { Type: "bind", Source: "/data/shared", Destination: "/shared", RW: false },
        { Type: "bind", Source: "/var/run/docker.sock", Destination: "/var/run/docker.sock", RW: true },
      ],
    },
  };
  const plan = planRestore(request({ as: "web2", start: true }), points, emptyState({ recipe: r }));
  const argv = plan.start?.kind === "run" ? (plan.start.containers[0]?.argv ?? []) : [];
  expect(argv).toContain("/opt/stacks/web2/binds/data/shared:/shared:ro");
  expect(argv).toContain("/var/run/docker.sock:/var/run/docker.sock");
  expect(plan.override).toBeUndefined();
});

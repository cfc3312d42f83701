import { describe, expect, test } from "bun:test";
import { planBackup } from "../../../../src/core/backup/plan.ts";
import type { BindMountInfo, ContainerInfo } from "../../../../src/core/discovery/model.ts";
import { renderBackupPlan } from "../../../../src/ui/backup-report.ts";
import { config, container, discovery, inspectOf, planOpts, service, stackUnit } from "./fixtures.ts";

const now = new Date("2025-01-31T23:59:59.000Z");

describe("planBackup", () => {
  test("stops in reverse dependency order (database last), starts in dependency order", () => {
    const plan = planBackup(config(), discovery(stackUnit()), now, planOpts);
    const u = plan.units[0];
    expect(u?.startOrder).toEqual(["shop_db_1", "shop_app_1", "shop_web_1"]);
    expect(u?.stopOrder).toEqual(["shop_web_1", "shop_app_1", "shop_db_1"]);
  });

  test("a container after the one whose network or volumes it uses, though compose wrote no depends_on", () => {
    // `network_mode: service:vpn` (compose writes `container:<vpn's id>`), `volumes_from: [app]`: docker
    // refuses to start app while vpn is stopped, so app sorting first by name left it down every night.
    const unit = stackUnit("vpnx");
    const withHost = (name: string, hostConfig: Record<string, unknown>) =>
      container(name, {
        compose: service("vpnx", name.split("_")[1] ?? ""),
        inspect: { ...inspectOf(name), HostConfig: hostConfig },
      });
    unit.containers = [
      withHost("vpnx_app_1", { NetworkMode: "container:id-vpnx_vpn_1" }),
      withHost("vpnx_archive_1", { VolumesFrom: ["vpnx_app_1:ro"] }),
      withHost("vpnx_vpn_1", { NetworkMode: "vpnx_default" }),
    ];
    const u = planBackup(config(), discovery(unit), now, planOpts).units[0];
    expect(u?.startOrder).toEqual(["vpnx_vpn_1", "vpnx_app_1", "vpnx_archive_1"]);
    expect(u?.stopOrder).toEqual(["vpnx_archive_1", "vpnx_app_1", "vpnx_vpn_1"]);
  });

  test("scope defaults to backup.scope from the config, --scope wins", () => {
    const minimal = planBackup(
      config({ backup: { scope: "minimal" } }),
      discovery(stackUnit()),
      now,
      planOpts,
    );
    expect(minimal.scope).toBe("minimal");
    expect(minimal.units[0]?.sources.map((s) => s.type)).toEqual(["volume", "bind"]);
    const full = planBackup(config({ backup: { scope: "minimal" } }), discovery(stackUnit()), now, {
      ...planOpts,
      scope: "full",
    });
    expect(full.units[0]?.sources.map((s) => s.type)).toEqual([
      "recipe",
      "networks",
      "docker_config",
      "volume",
      "bind",
    ]);
  });

  test("every source carries the full tag set, one timestamp, backup_id and source_count per unit", () => {
    const plan = planBackup(config(), discovery(stackUnit(), stackUnit("blog")), now, planOpts);
    const [shop, blog] = plan.units;
    for (const s of shop?.sources ?? []) {
      expect(s.tags).toMatchObject({
        unit: "shop",
        run_id: "RUN",
        backup_scope: "standard",
        timestamp: now.toISOString(),
        backup_format: "direct",
        kopi_docka_version: "9.9.9",
      });
      expect(s.tags.backup_id).toBe(shop?.backupId ?? "");
      // restore points count them: a unit whose volume snapshot failed is not a complete point
      expect(s.tags.source_count).toBe(String(shop?.sources.length));
    }
    expect(shop?.backupId).not.toBe(blog?.backupId);
    const vol = shop?.sources.find((s) => s.type === "volume");
    expect(vol).toMatchObject({
      path: "/var/lib/docker/volumes/shop_dbdata/_data",
      logicalPath: "/kopi-docka/shop/volumes/shop_dbdata",
    });
    expect(vol?.tags).toMatchObject({ volume: "shop_dbdata", size_bytes: "1000" });
    const bind = shop?.sources.find((s) => s.type === "bind");
    expect(bind?.tags).toMatchObject({
      bind_source: "/srv/shop/uploads",
      bind_destination: "/uploads",
      read_only: "false",
    });
    expect(shop?.sources.find((s) => s.type === "networks")?.tags.network_count).toBe("1");
    expect(shop?.sources.find((s) => s.type === "recipe")?.path).toBe("/stage/shop/recipe");
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });

  test("stop=false and stopped containers are never stopped; stopped ones never started", () => {
    const unit = stackUnit();
    unit.containers[0] = container("shop_web_1", { stop: false, compose: unit.containers[0]?.compose });
    unit.containers[1] = container("shop_app_1", {
      running: false,
      state: "exited",
      compose: unit.containers[1]?.compose,
    });
    const u = planBackup(config(), discovery(unit), now, planOpts).units[0];
    expect(u?.stopOrder).toEqual(["shop_db_1"]);
    expect(u?.startOrder).toEqual(["shop_db_1"]);
    expect(u?.containers.find((c) => c.name === "shop_web_1")?.action).toBe("live");
    expect(u?.containers.find((c) => c.name === "shop_app_1")?.action).toBe("stays_stopped");
  });

  test("stop timeout: unit override, then label, then the container's own, then global", () => {
    const unit = stackUnit();
    (unit.containers[0] as ContainerInfo).stopTimeoutLabel = "7";
    (unit.containers[1] as ContainerInfo).stopTimeout = 99;
    const byName = (c: ReturnType<typeof config>) =>
      Object.fromEntries(
        (planBackup(c, discovery(unit), now, planOpts).units[0]?.containers ?? []).map((x) => [
          x.name,
          [x.stopTimeout, x.stopTimeoutFrom],
        ]),
      );
    expect(byName(config({ backup: { stop_timeout: 12 } }))).toEqual({
      shop_web_1: [7, "label"],
      shop_app_1: [99, "container"],
      shop_db_1: [12, "global"],
    });
    expect(byName(config({ units: { shop: { stop_timeout: 5 } } }))).toEqual({
      shop_web_1: [5, "unit"],
      shop_app_1: [5, "unit"],
      shop_db_1: [5, "unit"],
    });
  });

  test("max_cold_seconds: the unit's own, else the global one, else none", () => {
    const plan = (c: ReturnType<typeof config>) =>
      planBackup(c, discovery(stackUnit()), now, planOpts).units[0];
    expect(plan(config({}))?.maxColdSeconds).toBeUndefined();
    expect(plan(config({ backup: { max_cold_seconds: 60 } }))?.maxColdSeconds).toBe(60);
    expect(
      plan(config({ backup: { max_cold_seconds: 60 }, units: { shop: { max_cold_seconds: 5 } } }))
        ?.maxColdSeconds,
    ).toBe(5);
    const planned = planBackup(
      config({ backup: { max_cold_seconds: 60 } }),
      discovery(stackUnit()),
      now,
      planOpts,
    );
    expect(renderBackupPlan(planned)).toContain("max cold: 60s");
    // The dry run also says what retention then removes, or why that is not known.
    const retention = { remove: ["shop@r1-shop"], skipped: [] };
    expect(renderBackupPlan({ ...planned, retention })).toContain(
      "retention after the run removes 1 restore point(s): shop@r1-shop",
    );
    expect(renderBackupPlan({ ...planned, retention: { unknown: "no repository yet" } })).toContain(
      "retention after the run: not known, no repository yet",
    );
  });

  test('hooks: unit override replaces the global one, "" disables it', () => {
    const c = config({
      backup: { hooks: { pre_backup: "/g/pre", post_backup: "/g/post" } },
      units: { shop: { pre_backup: "/u/pre", post_backup: "" } },
    });
    const plan = planBackup(c, discovery(stackUnit(), stackUnit("blog")), now, planOpts);
    expect(plan.units[0]?.hooks).toEqual({ preBackup: "/u/pre" });
    expect(plan.units[1]?.hooks).toEqual({ preBackup: "/g/pre", postBackup: "/g/post" });
  });

  test("reasons for skipped units, volumes and binds; --unit selection; exclude patterns on data only", () => {
    const blog = stackUnit("blog");
    (blog.bindMounts[0] as BindMountInfo).kind = "missing";
    const c = config({
      backup: { exclude_patterns: ["*.log"] },
      units: { shop: { exclude: true }, blog: { exclude_volumes: ["blog_dbdata"] } },
    });
    const plan = planBackup(c, discovery(stackUnit(), blog, stackUnit("wiki")), now, {
      ...planOpts,
      units: ["shop", "blog"],
      lastColdWindows: { blog: 1234 },
    });
    expect(plan.skippedUnits).toEqual([
      { name: "shop", reason: "excluded in the config" },
      { name: "wiki", reason: "not selected with --unit" },
    ]);
    const u = plan.units[0];
    expect(u?.predictedColdWindowMs).toBe(1234);
    expect(u?.skipped.map((s) => [s.kind, s.id])).toEqual([
      ["volume", "blog_dbdata"],
      ["bind", "/srv/shop/uploads"],
    ]);
    expect(u?.sources.map((s) => [s.type, s.excludePatterns])).toEqual([
      ["recipe", []],
      ["networks", []],
    ]);
  });
});

import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDiscovery, hostFs } from "../../../../src/core/discovery/discover.ts";
import type { Unit } from "../../../../src/core/discovery/model.ts";
import { config, facts, fakeFs } from "./fixtures.ts";

const now = () => new Date("2026-01-02T03:04:05Z");
const unit = (units: Unit[], name: string) => {
  const u = units.find((x) => x.name === name);
  if (!u) throw new Error(`no unit ${name}`);
  return u;
};

describe("captured compose v1 project + a labelled standalone container", () => {
  const fs = fakeFs({
    "/tmp/kdfix/proj/docker-compose.yml": "services:\n  app:\n    depends_on: [db]\n  db: {}\n",
    "/tmp/kdfix/proj/data/file.txt": "x",
  });
  const d = buildDiscovery(facts("v1"), config(), { fs, now });

  test("one compose unit (stopped service included) and one unit named by kopi-docka.unit", () => {
    expect(d.units.map((u) => [u.name, u.type, u.containers.map((c) => [c.name, c.running])])).toEqual([
      [
        "kdfixture",
        "compose",
        [
          ["kdfixture_app_1", false],
          ["kdfixture_db_1", true],
        ],
      ],
      ["tools", "standalone", [["kdfixture-solo", true]]],
    ]);
    expect(d.discoveredAt).toBe("2026-01-02T03:04:05.000Z");
    expect(d.dockerVersion).toBe("20.10.24");
  });

  test("v1 relative compose path resolved against the working dir; depends_on read from the file", () => {
    const u = unit(d.units, "kdfixture");
    expect(u.workingDir).toBe("/tmp/kdfix/proj");
    expect(u.composeFiles).toEqual([
      { labelPath: "docker-compose.yml", hostPath: "/tmp/kdfix/proj/docker-compose.yml", found: true },
    ]);
    const app = u.containers.find((c) => c.compose?.service === "app");
    expect(app?.compose?.dependsOn).toEqual(["db"]);
  });

  test("volume, bind, network; /proc and tmpfs left out with reasons", () => {
    const u = unit(d.units, "kdfixture");
    expect(u.volumes).toEqual([
      {
        name: "kdfixture_dbdata",
        driver: "local",
        options: {},
        labels: {
          "com.docker.compose.project": "kdfixture",
          "com.docker.compose.version": "1.29.2",
          "com.docker.compose.volume": "dbdata",
        },
        mountpoint: "/var/lib/docker/volumes/kdfixture_dbdata/_data",
        scope: "local",
        usedBy: ["kdfixture_db_1"],
      },
    ]);
    expect(u.bindMounts).toEqual([
      {
        source: "/tmp/kdfix/proj/data",
        targets: [{ container: "kdfixture_app_1", destination: "/app/data", readOnly: true }],
        readOnly: true,
        kind: "directory",
      },
    ]);
    expect(u.networks.map((n) => [n.name, n.driver, n.usedBy])).toEqual([
      ["kdfixture_backend", "bridge", ["kdfixture_app_1", "kdfixture_db_1"]],
    ]);
    expect(u.networks[0]?.inspect.Name).toBe("kdfixture_backend");
    expect(u.skipped).toEqual([
      {
        kind: "bind",
        id: "kdfixture_app_1:/proc",
        reason: "host internal path (at or under /proc, backup.host_internal_paths)",
      },
      { kind: "mount", id: "kdfixture_app_1:/tmp/cache", reason: "tmpfs: not persistent" },
    ]);
    expect(u.excluded).toBeUndefined();
  });

  test("the docker socket bind of the standalone container is a host internal", () => {
    const u = unit(d.units, "tools");
    expect(u.bindMounts).toEqual([]);
    expect(u.skipped.map((s) => s.id)).toEqual(["kdfixture-solo:/var/run/docker.sock"]);
    expect(u.volumes.map((v) => v.name)).toEqual(["kdfixture_solo"]);
  });

  test("config [units.x]: exclude, exclude_volumes, stop", () => {
    const cfg = config({
      units: { kdfixture: { exclude_volumes: ["dbdata"], stop: false }, tools: { exclude: true } },
    });
    const d2 = buildDiscovery(facts("v1"), cfg, { fs, now });
    const k = unit(d2.units, "kdfixture");
    expect(k.volumes).toEqual([]);
    expect(k.skipped).toContainEqual({
      kind: "volume",
      id: "kdfixture_dbdata",
      reason: "config [units.kdfixture] exclude_volumes",
    });
    expect(k.containers.every((c) => c.stop === false)).toBe(true);
    expect(unit(d2.units, "tools").excluded).toBe("config [units.tools] exclude = true");
  });

  test("a configured host_internal_paths replaces the default; / is always skipped", () => {
    const d2 = buildDiscovery(facts("v1"), config({ backup: { host_internal_paths: [] } }), { fs, now });
    expect(unit(d2.units, "kdfixture").bindMounts.map((b) => b.source)).toEqual([
      "/proc",
      "/tmp/kdfix/proj/data",
    ]);
  });
});

describe("compose v2 labels (hand-written)", () => {
  const d = buildDiscovery(facts("v2"), config(), {
    fs: fakeFs({ "/opt/stacks/shop/compose.yaml": "" }),
    now,
  });
  const u = unit(d.units, "shop");

  test("the unit with a database sorts first; excluded container left out with its reason", () => {
    expect(d.units[0]?.name).toBe("shop");
    expect(u.containers.map((c) => c.name)).toEqual(["shop-app-1", "shop-cache-1", "shop-db-1"]);
    expect(u.skipped).toContainEqual({
      kind: "container",
      id: "shop-worker-1",
      reason: "label kopi-docka.exclude=true",
    });
  });

  test("depends_on from the label; absolute compose paths, the missing one reported", () => {
    expect(u.containers[0]?.compose?.dependsOn).toEqual(["db", "cache"]);
    expect(u.composeFiles).toEqual([
      { labelPath: "/opt/stacks/shop/compose.yaml", hostPath: "/opt/stacks/shop/compose.yaml", found: true },
      { labelPath: "/opt/stacks/shop/compose.prod.yaml", found: false },
    ]);
    expect(u.skipped).toContainEqual({
      kind: "compose_file",
      id: "/opt/stacks/shop/compose.prod.yaml",
      reason: "not found on this host",
    });
  });

  test("kopi-docka.exclude-volumes by compose short name; the host root and tmpfs left out", () => {
    expect(u.volumes.map((v) => v.name)).toEqual(["shop_pgdata"]);
    expect(u.skipped).toContainEqual({
      kind: "volume",
      id: "shop_cachedata",
      reason: "label kopi-docka.exclude-volumes on shop-app-1",
    });
    expect(u.skipped).toContainEqual({
      kind: "bind",
      id: "shop-app-1:/",
      reason: "the host root `/` is never backed up",
    });
    expect(u.skipped).toContainEqual({
      kind: "mount",
      id: "shop-app-1:/run/app",
      reason: "tmpfs: not persistent",
    });
    // the excluded worker's bind is not collected; the app's are, with their kind
    expect(u.bindMounts.map((b) => [b.source, b.kind, b.targets.length])).toEqual([
      ["/opt/stacks/shop/config/app.ini", "missing", 1],
      ["/opt/stacks/shop/uploads", "missing", 1],
    ]);
  });

  test("every container excluded → the unit is excluded, with the reasons", () => {
    const all = facts("v2");
    for (const c of all.containers as { Config: { Labels: Record<string, string> } }[]) {
      c.Config.Labels = { ...c.Config.Labels, "kopi-docka.exclude": "true" };
    }
    const [only] = buildDiscovery(all, config(), { fs: fakeFs({}), now }).units;
    expect(only?.containers).toEqual([]);
    expect(only?.excluded).toStartWith(
      "every container is excluded (shop-app-1: label kopi-docka.exclude=true;",
    );
  });
});

describe("Portainer-managed stack (hand-written)", () => {
  const fs = fakeFs({
    "/var/lib/docker/volumes/portainer_data/_data/compose/6/docker-compose.yml": "services: {}\n",
  });
  const d = buildDiscovery(facts("portainer"), config(), { fs, now });

  test("the compose path inside Portainer's /data is translated through its volume mount", () => {
    expect(unit(d.units, "wiki").composeFiles).toEqual([
      {
        labelPath: "/data/compose/6/docker-compose.yml",
        hostPath: "/var/lib/docker/volumes/portainer_data/_data/compose/6/docker-compose.yml",
        found: true,
      },
    ]);
    expect(unit(d.units, "wiki").workingDir).toBe("/data/compose/6");
    expect(unit(d.units, "portainer").type).toBe("standalone");
  });
});

describe("compose labels an image carries", () => {
  test("its config files and working dir are never read: an image could name any host file", () => {
    const all = facts("v1");
    const [image] = all.images as { Config: { Labels?: Record<string, string> | null } }[];
    if (!image) throw new Error("no image in the fixture");
    // The image says what compose said for these containers: the backup cannot tell them apart.
    image.Config.Labels = {
      "com.docker.compose.project.config_files": "docker-compose.yml",
      "com.docker.compose.project.working_dir": "/tmp/kdfix/proj",
    };
    const fs = fakeFs({ "/tmp/kdfix/proj/docker-compose.yml": "services: {}\n" });
    const u = unit(buildDiscovery(all, config(), { fs, now }).units, "kdfixture");
    expect(u.composeFiles).toEqual([]);
    // The same labels from compose alone (the image has none): read as ever.
    const plain = unit(buildDiscovery(facts("v1"), config(), { fs, now }).units, "kdfixture");
    expect(plain.composeFiles.map((f) => f.found)).toEqual([true]);
  });
});

test("a compose file path that names a fifo or a device is not read (the read would never end)", () => {
  const dir = mkdtempSync(join(tmpdir(), "kdt-fifo-"));
  try {
    const fifo = join(dir, "docker-compose.yml");
    Bun.spawnSync(["mkfifo", fifo]);
    expect(hostFs.readText(fifo)).toBeUndefined();
    expect(hostFs.readText("/dev/zero")).toBeUndefined();
    writeFileSync(join(dir, "real.yml"), "services: {}\n");
    expect(hostFs.readText(join(dir, "real.yml"))).toBe("services: {}\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

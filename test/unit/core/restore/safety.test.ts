import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDiscovery } from "../../../../src/core/discovery/discover.ts";
import { nameProblem } from "../../../../src/core/names-rules.ts";
import { writeRecipeFiles } from "../../../../src/core/restore/files.ts";
import { renamer } from "../../../../src/core/restore/names.ts";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import { readRecipe } from "../../../../src/core/restore/recipe.ts";
import { requestFromFlags } from "../../../../src/core/restore/request.ts";
import { cleanPathProblem, pathUnder, UnsafePathError } from "../../../../src/core/safe-paths.ts";
import { config, facts, inspected } from "../discovery/fixtures.ts";
import { emptyState, manifest, recipe, request, unitBackup } from "./fixtures.ts";

const tmp = mkdtempSync(join(tmpdir(), "kd-safety-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const silent = { info() {}, warn() {}, error() {}, debug() {} } as never;

describe("names: Docker's and compose's rules", () => {
  test("valid and invalid names", () => {
    for (const ok of ["shop", "a", "my.app_2-x", "Upper"]) expect(nameProblem("volume", ok)).toBeUndefined();
    for (const bad of ["../../etc", "..", ".hidden", "-flag", "a/b", "a b", "", "x\ny"])
      expect(nameProblem("unit", bad)).toContain("invalid unit name");
    expect(nameProblem("compose project", "Shop")).toContain("invalid compose project name");
    expect(nameProblem("compose project", "shop_2-x")).toBeUndefined();
  });

  test("pathUnder joins under its root and throws a typed error for anything that leaves it", () => {
    expect(pathUnder("/opt/stacks", "shop")).toBe("/opt/stacks/shop");
    expect(pathUnder("/x/binds", "/srv/data")).toBe("/x/binds/srv/data");
    for (const part of ["../../etc", "/../../etc", "a/../../b", ".."])
      expect(() => pathUnder("/opt/stacks", part)).toThrow(UnsafePathError);
    expect(cleanPathProblem("/srv/a/../b")).toContain("contains ..");
    expect(cleanPathProblem("srv")).toContain("not an absolute path");
    expect(cleanPathProblem("/srv//a")).toContain("not normalised");
    expect(cleanPathProblem("/srv/data")).toBeUndefined();
  });

  test("discovery: a unit named ../../etc by a label is excluded with the reason, never backed up", () => {
    const raw = inspected("v1");
    for (const l of raw.map((c) => c.Config.Labels ?? {})) {
      if (l["kopi-docka.unit"]) l["kopi-docka.unit"] = "../../etc";
      if (l["com.docker.compose.project"]) l["com.docker.compose.project"] = "../evil";
    }
    const d = buildDiscovery({ ...facts("v1"), containers: raw }, config(), {
      fs: { exists: () => false, readText: () => undefined, kindOf: () => "directory" },
    });
    expect(d.units.map((u) => [u.name, u.excluded])).toEqual([
      ["../../etc", expect.stringContaining('invalid unit name "../../etc"')],
      ["../evil", expect.stringContaining('invalid compose project name "../evil"')],
    ]);
  });

  test("restore: --unit with a bad name is a usage error", () => {
    const points = groupRestorePoints(unitBackup("shop", "r1", "2026-01-01T10:00:00Z", []));
    expect(() => requestFromFlags({ unit: "../../etc", latest: true }, points, "h1")).toThrow(
      "invalid unit name",
    );
  });
});

describe("forged snapshot metadata", () => {
  const base = {
    backup_id: "r1-x",
    run_id: "r1",
    timestamp: "2026-01-01T10:00:00Z",
    backup_scope: "standard",
  };

  test("tags with a bad unit, volume or bind_source are never offered", () => {
    const pts = groupRestorePoints([
      manifest({ ...base, unit: "../../etc", type: "recipe" }),
      manifest({ ...base, unit: "shop", type: "recipe" }),
      manifest({ ...base, unit: "shop", type: "volume", volume: "../../../etc" }),
      manifest({ ...base, unit: "shop", type: "bind", bind_source: "/../../etc" }),
      manifest({ ...base, unit: "shop", type: "bind", bind_source: "/srv/data" }),
    ]);
    expect(pts.points.map((p) => p.unit)).toEqual(["shop"]);
    expect(pts.points[0]?.volumes).toEqual([]);
    expect(pts.points[0]?.binds.map((b) => b.source)).toEqual(["/srv/data"]);
    expect(pts.rejected?.map((r) => r.reason)).toEqual([
      expect.stringContaining("invalid unit name"),
      expect.stringContaining("invalid volume name"),
      expect.stringContaining("contains .."),
    ]);
  });

  test("a volume of a format kopi-docka does not restore (a tar stream of Kopi-Docka before 5.0) is never offered", () => {
    const pts = groupRestorePoints([
      manifest({ ...base, unit: "shop", type: "recipe" }),
      manifest({ ...base, unit: "shop", type: "volume", volume: "shop_db", backup_format: "tar" }),
      manifest({ ...base, unit: "shop", type: "volume", volume: "shop_web", backup_format: "direct" }),
    ]);
    expect(pts.points[0]?.volumes.map((v) => v.name)).toEqual(["shop_web"]);
    expect(pts.rejected?.map((r) => r.reason)).toEqual([expect.stringContaining('backup_format "tar"')]);
  });

  const writeRecipe = (name: string, unit: Record<string, unknown>) => {
    const dir = join(tmp, name);
    mkdirSync(join(dir, "compose"), { recursive: true });
    writeFileSync(join(dir, "unit.json"), JSON.stringify({ unit: "shop", type: "compose", ...unit }));
    return dir;
  };

  test("a recipe whose stored path, bind source or names climb out is refused", () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ["stored", { composeFiles: [{ labelPath: "x.yml", stored: "../../../etc/passwd" }] }, "compose/NN"],
      // `compose/01-.` would name the target dir itself: restored as a file over it and its binds.
      ["dot", { composeFiles: [{ labelPath: "x.yml", stored: "compose/01-." }] }, "compose/NN"],
      ["dotdot", { composeFiles: [{ labelPath: "x.yml", stored: "compose/01-.." }] }, "compose/NN"],
      ["bind", { bindMounts: [{ source: "/../../etc", targets: [] }] }, "contains .."],
      ["relbind", { bindMounts: [{ source: "etc", targets: [] }] }, "not an absolute path"],
      ["unit", { unit: "../../etc" }, "invalid unit name"],
      ["vol", { volumes: [{ name: "../x" }] }, "invalid volume name"],
      ["net", { networks: ["--driver=host"] }, "invalid network name"],
      ["wd", { workingDir: "/srv/../etc" }, "contains .."],
    ];
    for (const [name, unit, why] of cases) {
      expect(() => readRecipe(writeRecipe(name, unit))).toThrow(why);
    }
  });

  test("a stored file that is a symlink is never read (it would copy a host file out)", () => {
    const dir = writeRecipe("link", {
      composeFiles: [{ labelPath: "docker-compose.yml", stored: "compose/01-docker-compose.yml" }],
    });
    writeFileSync(join(tmp, "host-secret"), "secret\n");
    symlinkSync(join(tmp, "host-secret"), join(dir, "compose", "01-docker-compose.yml"));
    expect(readRecipe(dir).files).toEqual([]);
  });

  test("a bind target under backup.host_internal_paths is refused unless that exact path is allowed", () => {
    const pts = groupRestorePoints([
      ...unitBackup("shop", "r1", "2026-01-01T10:00:00Z", []),
      manifest({ ...base, unit: "shop", backup_id: "r1-shop", type: "bind", bind_source: "/etc/cron.d" }),
    ]);
    const state = emptyState({
      recipe: recipe(),
      hostInternal: { host_internal_paths: ["/etc"], host_internal_basenames: [] },
    });
    const plan = planRestore(request(), pts, state);
    expect(plan.refusals.join("\n")).toContain("bind mount /etc/cron.d is a host internal path");
    expect(plan.confirmPaths).toEqual(["/etc/cron.d"]);
    expect(planRestore(request({ allowPaths: ["/etc"] }), pts, state).refusals).not.toEqual([]);
    expect(planRestore(request({ allowPaths: ["/etc/cron.d"] }), pts, state).refusals).toEqual([]);
  });

  test("compose files never land in a host-internal working dir a (forged) recipe names, unconfirmed", () => {
    const pts = groupRestorePoints(unitBackup("shop", "r1", "2026-01-01T10:00:00Z", []));
    const state = emptyState({
      recipe: recipe({ workingDir: "/etc/shop" }),
      hostInternal: { host_internal_paths: ["/etc"], host_internal_basenames: [] },
    });
    const plan = planRestore(request(), pts, state);
    expect(plan.targetDir).toBe("/etc/shop");
    expect(plan.refusals.join("\n")).toContain("/etc/shop/docker-compose.yml is in a host internal path");
    expect(plan.confirmPaths).toContain("/etc/shop/.env");
    const allowed = request({ allowPaths: ["/etc/shop/docker-compose.yml", "/etc/shop/.env"] });
    expect(planRestore(allowed, pts, state).refusals).toEqual([]);
  });

  test("--start of a container whose (forged) inspect mounts a host-internal path is refused", () => {
    const pts = groupRestorePoints(unitBackup("shop", "r1", "2026-01-01T10:00:00Z", []));
    const r = recipe({ type: "standalone" });
    r.inspects = { shop_db_1: { Mounts: [{ Type: "bind", Source: "/etc", Destination: "/host" }] } };
    const state = emptyState({
      recipe: r,
      hostInternal: { host_internal_paths: ["/etc"], host_internal_basenames: [] },
    });
    const plan = planRestore(request({ start: true }), pts, state);
    expect(plan.refusals.join("\n")).toContain("container shop_db_1 would mount /etc");
    const allowed = planRestore(request({ start: true, allowPaths: ["/etc"] }), pts, state);
    expect(allowed.refusals.join("\n")).not.toContain("would mount");
  });

  test("under --as a bind source can never leave <target>/binds", () => {
    expect(renamer("copy", "/opt/stacks/copy").bind("/srv/a")).toBe("/opt/stacks/copy/binds/srv/a");
    expect(() => renamer("copy", "/opt/stacks/copy").bind("/../../../etc")).toThrow(UnsafePathError);
  });
});

describe("symlinks", () => {
  test("a bind target with an unrecorded symlink at or above it is refused; any existing path gets an undo point", () => {
    const pts = groupRestorePoints([
      ...unitBackup("shop", "r1", "2026-01-01T10:00:00Z", []),
      manifest({ ...base(), type: "bind", bind_source: "/srv/data" }),
      manifest({ ...base(), type: "bind", bind_source: "/srv/conf" }),
    ]);
    const state = emptyState({
      recipe: recipe(),
      paths: { "/srv/data": "other", "/srv/conf": "file" },
      symlinks: { "/srv/data": { link: "/srv/data", to: "/etc", resolved: "/etc" } },
    });
    const plan = planRestore(request(), pts, state);
    expect(plan.refusals).toEqual([
      expect.stringContaining(
        "bind mount /srv/data: /srv/data is a symlink (to /etc) that the backup did not record",
      ),
    ]);
    // /srv/conf holds a file where the backup had a directory: still kept in the undo point first.
    expect(plan.undo.map((u) => u.path)).toEqual(["/srv/data", "/srv/conf"]);
  });

  test("a symlink the backup recorded (realSource) and that still resolves the same is written at its target", () => {
    const pts = groupRestorePoints([
      ...unitBackup("shop", "r1", "2026-01-01T10:00:00Z", []),
      manifest({ ...base(), type: "bind", bind_source: "/srv/data" }),
    ]);
    const r = recipe({ bindMounts: [{ source: "/srv/data", realSource: "/mnt/disk/data", targets: [] }] });
    const link = { link: "/srv", to: "/mnt/disk", resolved: "/mnt/disk/data" };
    const plan = planRestore(
      request(),
      pts,
      emptyState({ recipe: r, paths: { "/srv/data": "directory" }, symlinks: { "/srv/data": link } }),
    );
    expect(plan.refusals).toEqual([]);
    expect(plan.binds[0]).toMatchObject({ path: "/srv/data", realPath: "/mnt/disk/data" });
    expect(plan.undo).toEqual([{ kind: "bind", name: "/srv/data", path: "/mnt/disk/data" }]);
    const moved = { ...link, resolved: "/elsewhere/data" };
    const refused = planRestore(
      request(),
      pts,
      emptyState({ recipe: r, paths: { "/srv/data": "directory" }, symlinks: { "/srv/data": moved } }),
    );
    expect(refused.refusals.join()).toContain("did not record");
  });

  test("writeRecipeFiles replaces a symlink at the target instead of writing through it", () => {
    const dir = join(tmp, "files");
    mkdirSync(join(dir, "recipe", "compose"), { recursive: true });
    mkdirSync(join(dir, "target"), { recursive: true });
    writeFileSync(join(dir, "recipe", "compose", "01-docker-compose.yml"), "services: {}\n", { mode: 0o640 });
    writeFileSync(join(dir, "outside"), "do not touch\n");
    const to = join(dir, "target", "docker-compose.yml");
    symlinkSync(join(dir, "outside"), to);
    const backups = writeRecipeFiles(
      join(dir, "recipe"),
      [{ stored: "compose/01-docker-compose.yml", to, action: "create" }],
      { stamp: "S", log: silent },
    );
    expect(readFileSync(join(dir, "outside"), "utf8")).toBe("do not touch\n");
    expect(readFileSync(to, "utf8")).toBe("services: {}\n");
    expect(backups).toEqual([`${to}.bak-S`]);
  });
});

function base() {
  return {
    unit: "shop",
    backup_id: "r1-shop",
    run_id: "r1",
    timestamp: "2026-01-01T10:00:00Z",
    backup_scope: "standard",
  };
}

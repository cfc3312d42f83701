import { describe, expect, test } from "bun:test";
import { groupRestorePoints, pointHosts } from "../../../../src/core/restore/points.ts";
import { tagStrings, undoPointTags } from "../../../../src/core/snapshot/tags.ts";
import { manifest, undoManifest, unitBackup } from "./fixtures.ts";

describe("groupRestorePoints", () => {
  test("one point per unit per backup, grouped by ids, newest first", () => {
    const { points, undoPoints } = groupRestorePoints([
      ...unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["shop_db"]),
      // the same run an hour later for another unit: ids group it, not a time window
      ...unitBackup("blog", "r1", "2026-01-01T11:00:00Z", ["blog_data", "blog_db"]),
      ...unitBackup("shop", "r2", "2026-01-02T10:00:00Z", ["shop_db"]),
    ]);
    expect(undoPoints).toEqual([]);
    expect(points.map((p) => p.key)).toEqual(["shop@r2-shop", "blog@r1-blog", "shop@r1-shop"]);
    const blog = points[1];
    expect(blog).toMatchObject({ unit: "blog", runId: "r1", host: "h1", scope: "standard", complete: true });
    expect(blog?.volumes.map((v) => v.name)).toEqual(["blog_data", "blog_db"]);
    expect(blog?.sizeBytes).toBe(400);
    expect(blog?.recipe?.id).toBeTruthy();
  });

  test("a manifest whose id is no snapshot id (a flag) is never offered: its point is incomplete", () => {
    const backup = unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["shop_db"]);
    const forged = backup.map((m) => (m.tags?.["tag:type"] === "recipe" ? { ...m, id: "--x" } : m));
    const point = groupRestorePoints(forged).points[0];
    expect(point?.recipe).toBeUndefined();
    expect(point?.complete).toBe(false);
    expect(point?.problems).toContain('recipe snapshot "--x" has no valid id; not offered');
    expect(point?.volumes.map((v) => v.id)).toEqual([backup[2]?.id as string]);
  });

  test("incomplete snapshots are never offered and mark their point incomplete", () => {
    const { points } = groupRestorePoints(
      unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["a", "b"], { incompleteVolume: "b" }),
    );
    expect(points[0]?.volumes.map((v) => v.name)).toEqual(["a"]);
    expect(points[0]?.complete).toBe(false);
    expect(points[0]?.problems[0]).toContain("volume b");
  });

  test("a snapshot kopia saved without some entries it could not read: offered, the point incomplete", () => {
    const backup = unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["shop_db"]);
    const torn = backup.map((m) =>
      m.tags?.["tag:type"] === "volume"
        ? { ...m, rootEntry: { summ: { size: 10, files: 3, numFailed: 2 } } }
        : m,
    );
    const point = groupRestorePoints(torn).points[0];
    const id = torn.find((m) => m.rootEntry?.summ?.numFailed)?.id;
    expect(point?.volumes.map((v) => v.name)).toEqual(["shop_db"]);
    expect(point?.complete).toBe(false);
    expect(point?.problems).toEqual([`volume shop_db snapshot ${id} lacks 2 entries kopia could not read`]);
    expect(groupRestorePoints(backup).points[0]?.complete).toBe(true);
  });

  test("a backup with fewer snapshots than its source_count (a volume that failed) is incomplete", () => {
    const base = { unit: "shop", backup_id: "r1-shop", run_id: "r1", backup_scope: "standard" };
    const at = { timestamp: "2026-01-01T10:00:00Z", source_count: "3" };
    const recipe = manifest({ ...base, ...at, type: "recipe" });
    const db = manifest({ ...base, ...at, type: "volume", volume: "shop_db" });
    const files = manifest({ ...base, ...at, type: "volume", volume: "shop_files" });
    const failed = groupRestorePoints([recipe, db]).points[0];
    expect(failed?.complete).toBe(false);
    expect(failed?.problems).toEqual(["2 of 3 planned snapshots are in the repository"]);
    expect(groupRestorePoints([recipe, db, files]).points[0]?.complete).toBe(true);
  });

  test("a standard backup without a recipe is incomplete; a minimal one is not", () => {
    const standard = unitBackup("x", "r1", "2026-01-01T10:00:00Z", ["v"]).filter(
      (m) => m.tags?.["tag:type"] === "volume",
    );
    const minimal = unitBackup("y", "r2", "2026-01-01T10:00:00Z", ["v"], { scope: "minimal" });
    const { points } = groupRestorePoints([...standard, ...minimal]);
    expect(points.find((p) => p.unit === "x")?.complete).toBe(false);
    expect(points.find((p) => p.unit === "y")?.complete).toBe(true);
  });

  test("pre-restore snapshots are undo points; untagged snapshots are ignored", () => {
    const undo = undoManifest();
    const { points, undoPoints } = groupRestorePoints([undo, manifest({ type: "volume" })]);
    expect(points).toEqual([]);
    expect(undoPoints.map((p) => [p.key, p.phase, p.complete])).toEqual([
      ["shop@restore-1", "pre-restore", true],
    ]);
  });

  test("an undo point cut short (a restore stopped between its snapshots) is shown incomplete", () => {
    const run = { runId: "restore-2", timestamp: "2026-01-04T00:00:00Z", count: 2 };
    const tags = (volume: string) =>
      tagStrings(undoPointTags({ ...run, unit: "shop", version: "1" }, { type: "volume", volume }));
    const first = manifest(tags("shop_db"));
    const second = manifest(tags("shop_files"));
    const cut = groupRestorePoints([first]).undoPoints[0];
    expect(cut?.complete).toBe(false);
    expect(cut?.problems).toEqual(["1 of 2 planned snapshots are in the repository"]);
    expect(groupRestorePoints([first, second]).undoPoints[0]?.complete).toBe(true);
  });

  test("points of other hosts stay apart; this host is listed first", () => {
    const { points } = groupRestorePoints([
      ...unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["v"], { host: "zeta" }),
      ...unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["v"], { host: "alpha" }),
    ]);
    expect(points.length).toBe(2);
    expect(pointHosts(points, "zeta")).toEqual(["zeta", "alpha"]);
    expect(pointHosts(points, "other")).toEqual(["alpha", "zeta"]);
  });
});

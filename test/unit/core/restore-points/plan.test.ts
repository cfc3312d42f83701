import { expect, test } from "bun:test";
import type { SnapshotManifest } from "../../../../src/core/kopia/parse.ts";
import { deletionOrder, managedPoints } from "../../../../src/core/restore-points/groups.ts";
import { planDelete, planExpire, selectManaged } from "../../../../src/core/restore-points/plan.ts";

const snap = (
  id: string,
  run: string,
  unit: string,
  type: string,
  o: { host?: string; pins?: string[]; keep?: string[] } = {},
): SnapshotManifest => ({
  id,
  source: { host: o.host ?? "h", userName: "kopi-docka", path: `/${unit}/${type}` },
  startTime: `2026-01-0${run.slice(1)}T00:00:00Z`,
  tags: {
    "tag:unit": unit,
    "tag:backup_id": `${run}-${unit}`,
    "tag:run_id": run,
    "tag:type": type,
    "tag:timestamp": `2026-01-0${run.slice(1)}T00:00:00Z`,
    ...(type === "volume" ? { "tag:volume": `${unit}_data` } : {}),
  },
  ...(o.pins ? { pins: o.pins } : {}),
  ...(o.keep ? { retentionReason: o.keep } : {}),
});

const manifests = [
  snap("v1", "r1", "shop", "volume"),
  snap("c1", "r1", "shop", "recipe"),
  snap("b1", "r1", "blog", "recipe"),
  snap("v2", "r2", "shop", "volume", { keep: ["latest-1"] }),
  snap("c2", "r2", "shop", "recipe", { keep: ["latest-1"] }),
  snap("x", "r9", "other", "recipe", { host: "elsewhere" }),
  { id: "foreign", source: { host: "h", userName: "u", path: "/x" }, startTime: "2026-01-01T00:00:00Z" },
];
const points = managedPoints(manifests);

test("points group a unit's snapshots per backup, newest first; untagged snapshots are not ours", () => {
  expect(points.map((p) => p.key)).toEqual([
    "other@r9-other",
    "shop@r2-shop",
    "blog@r1-blog",
    "shop@r1-shop",
  ]);
  expect(points.flatMap((p) => p.snapshots.map((s) => s.id))).not.toContain("foreign");
});

test("a run names every unit's point of it; a snapshot names its whole point; the recipe is deleted first", () => {
  expect(selectManaged(points, { run: "r1" }).map((p) => p.key)).toEqual(["blog@r1-blog", "shop@r1-shop"]);
  const plan = planDelete(points, { snapshot: "v1" });
  expect(plan.points.map((p) => p.key)).toEqual(["shop@r1-shop"]);
  expect(plan.snapshotIds).toEqual(["c1", "v1"]);
  expect(deletionOrder(points[1] as (typeof points)[number])).toEqual(["c2", "v2"]);
});

test("bad selectors: none or both is a usage error; unknown is not_found; a pinned point refuses delete", () => {
  expect(() => selectManaged(points, {})).toThrow("exactly one of --run ID or --snapshot ID");
  expect(() => selectManaged(points, { run: "r1", snapshot: "v1" })).toThrow("exactly one");
  expect(() => selectManaged(points, { snapshot: "foreign" })).toThrow(
    expect.objectContaining({ code: "not_found" }),
  );
  const pinned = managedPoints([snap("p", "r3", "shop", "recipe", { pins: ["kopi-docka: audit"] })]);
  expect(() => planDelete(pinned, { run: "r3" })).toThrow(
    /pinned, not deleted: shop@r3-shop \(kopi-docka: audit\)/,
  );
});

test("expire: whole points past retention go; split and pinned points stay; other hosts untouched", () => {
  const split = managedPoints([
    ...manifests,
    snap("v4", "r4", "shop", "volume"),
    snap("c4", "r4", "shop", "recipe", { keep: ["daily-1"] }),
    snap("c5", "r5", "shop", "recipe", { pins: ["kopi-docka"] }),
  ]);
  const plan = planExpire(split, "h");
  expect(plan.remove.map((p) => p.key)).toEqual(["blog@r1-blog", "shop@r1-shop"]);
  expect(plan.snapshotIds).toEqual(["b1", "c1", "v1"]);
  expect(plan.keptWhole).toEqual([{ key: "shop@r4-shop", pastRetention: 1, snapshots: 2 }]);
  expect(plan.pinned).toEqual(["shop@r5-shop"]);
});

import { expect, test } from "bun:test";
import type { SnapshotManifest } from "../../../../src/core/kopia/parse.ts";
import { deletionOrder, managedPoints } from "../../../../src/core/restore-points/groups.ts";
import {
  planDelete,
  planExpire,
  planExpireAfterBackup,
  selectManaged,
} from "../../../../src/core/restore-points/plan.ts";

const snap = (
  id: string,
  run: string,
  unit: string,
  type: string,
  o: { host?: string; pins?: string[]; tags?: Record<string, string>; incomplete?: string } = {},
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
    ...o.tags,
  },
  ...(o.pins ? { pins: o.pins } : {}),
  ...(o.incomplete ? { incomplete: o.incomplete } : {}),
});

const manifests = [
  snap("v1", "r1", "shop", "volume"),
  snap("c1", "r1", "shop", "recipe"),
  snap("b1", "r1", "blog", "recipe"),
  snap("v2", "r2", "shop", "volume"),
  snap("c2", "r2", "shop", "recipe"),
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
  expect(selectManaged(points, { run: "r1", host: "h" }).map((p) => p.key)).toEqual([
    "blog@r1-blog",
    "shop@r1-shop",
  ]);
  const plan = planDelete(points, { snapshot: "v1", host: "h" });
  expect(plan.points.map((p) => p.key)).toEqual(["shop@r1-shop"]);
  expect(plan.snapshotIds).toEqual(["c1", "v1"]);
  expect(deletionOrder(points[1] as (typeof points)[number])).toEqual(["c2", "v2"]);
});

test("bad selectors: none or both is a usage error; unknown is not_found; a pinned point refuses delete", () => {
  expect(() => selectManaged(points, { host: "h" })).toThrow("exactly one of --run ID or --snapshot ID");
  expect(() => selectManaged(points, { run: "r1", snapshot: "v1", host: "h" })).toThrow("exactly one");
  expect(() => selectManaged(points, { snapshot: "foreign", host: "h" })).toThrow(
    expect.objectContaining({ code: "not_found" }),
  );
  const pinned = managedPoints([snap("p", "r3", "shop", "recipe", { pins: ["kopi-docka: audit"] })]);
  expect(() => planDelete(pinned, { run: "r3", host: "h" })).toThrow(
    /pinned, not deleted: shop@r3-shop \(kopi-docka: audit\)/,
  );
});

test("another host's point is acted on only when --host names it: it may be that host's run writing it", () => {
  const err = (() => {
    try {
      selectManaged(points, { run: "r9", host: "h" });
    } catch (e) {
      return e as { code: string; message: string; hint: string };
    }
  })();
  expect(err?.code).toBe("not_found");
  expect(err?.message).toBe("no kopi-docka restore point of host h has run r9");
  expect(err?.hint).toContain("it is host elsewhere's: pass --host elsewhere");
  expect(selectManaged(points, { run: "r9", host: "elsewhere" }).map((p) => p.key)).toEqual([
    "other@r9-other",
  ]);
  // A run id this host and another share: only this host's point.
  const both = managedPoints([...manifests, snap("y", "r1", "shop", "recipe", { host: "elsewhere" })]);
  expect(selectManaged(both, { run: "r1", host: "h" }).every((p) => p.host === "h")).toBe(true);
});

const latest = (n: number) => ({ latest: n, hourly: 0, daily: 0, weekly: 0, monthly: 0, annual: 0 });
const two = { tags: { "tag:source_count": "2" } };

test("a point is complete with every planned snapshot, none incomplete, and its recipe", () => {
  const ps = managedPoints([
    snap("v1", "r1", "shop", "volume", two),
    snap("c1", "r1", "shop", "recipe", two),
    snap("c2", "r2", "shop", "recipe", two), // its volume failed
    snap("v3", "r3", "shop", "volume", two),
    snap("c3", "r3", "shop", "recipe", { ...two, incomplete: "canceled" }),
    snap("v4", "r4", "shop", "volume", { tags: { "tag:backup_scope": "minimal" } }),
    snap("c5", "r5", "shop", "volume", { tags: { "tag:phase": "pre-restore" } }),
  ]);
  expect(Object.fromEntries(ps.map((p) => [p.key, p.complete]))).toEqual({
    "shop@r1-shop": true,
    "shop@r2-shop": false,
    "shop@r3-shop": false,
    "shop@r4-shop": true,
    "shop@r5-shop": true,
  });
});

test("expire: retention counts whole points; a failed run never pushes a complete point out, nor splits one", () => {
  // latest = 2: kopia, per source, would keep the recipes of r3 and r4 and the volumes of r2 and r4,
  // leaving r2 a volume without its recipe. By points: r4 and r3 are the latest two runs, r4 and r2
  // the latest two complete ones; r1 goes whole.
  const ps = managedPoints([
    ...["r1", "r2", "r4"].flatMap((r) => [
      snap(`v${r}`, r, "shop", "volume", two),
      snap(`c${r}`, r, "shop", "recipe", two),
    ]),
    snap("cr3", "r3", "shop", "recipe", two),
  ]);
  const plan = planExpire(ps, "h", latest(2));
  expect(plan.remove.map((p) => p.key)).toEqual(["shop@r1-shop"]);
  expect(plan.snapshotIds).toEqual(["cr1", "vr1"]);
  expect(plan.kept).toEqual([
    { key: "shop@r4-shop", reasons: ["latest-1", "complete-latest-1"] },
    { key: "shop@r3-shop", reasons: ["latest-2"] },
    { key: "shop@r2-shop", reasons: ["complete-latest-2"] },
  ]);
});

test("expire: pinned points stay and take no slot; undo points count apart; other hosts and units untouched", () => {
  const undo = { tags: { "tag:phase": "pre-restore" } };
  const ps = managedPoints([
    ...manifests,
    snap("c3", "r3", "shop", "recipe"),
    snap("c4", "r4", "shop", "recipe", { pins: ["kopi-docka"] }),
    snap("u5", "r5", "shop", "volume", undo),
    snap("u6", "r6", "shop", "volume", undo),
    snap("b7", "r7", "blog", "recipe"),
  ]);
  const plan = planExpire(ps, "h", latest(1));
  expect(plan.pinned).toEqual(["shop@r4-shop"]);
  expect(plan.remove.map((p) => p.key).sort()).toEqual([
    "blog@r1-blog",
    "shop@r1-shop",
    "shop@r2-shop",
    "shop@r5-shop",
  ]);
  expect(plan.kept.map((k) => k.key).sort()).toEqual(["blog@r7-blog", "shop@r3-shop", "shop@r6-shop"]);
  expect(planExpire(ps, "h", latest(1), { units: ["blog"] }).remove.map((p) => p.key)).toEqual([
    "blog@r1-blog",
  ]);
  // All zero keeps everything (kopia's "keep latest unlimited").
  expect(planExpire(ps, "h", latest(0)).remove).toEqual([]);
});

test("a timestamp tag that is no date, or later than the snapshot started, gives way to kopia's start time", () => {
  const ps = managedPoints([
    snap("c1", "r1", "shop", "recipe"),
    snap("c2", "r2", "shop", "recipe", { tags: { "tag:timestamp": "not-a-date" } }),
    snap("c3", "r3", "shop", "recipe", { tags: { "tag:timestamp": "2099-01-01T00:00:00Z" } }),
  ]);
  // Before: "not-a-date" sorted newest and made planExpire throw for every unit (Invalid Date).
  expect(ps.map((p) => [p.key, p.timestamp])).toEqual([
    ["shop@r3-shop", "2026-01-03T00:00:00Z"],
    ["shop@r2-shop", "2026-01-02T00:00:00Z"],
    ["shop@r1-shop", "2026-01-01T00:00:00Z"],
  ]);
  expect(planExpire(ps, "h", latest(1)).remove.map((p) => p.key)).toEqual(["shop@r2-shop", "shop@r1-shop"]);
});

test("expire with a wrong clock: a point dated ahead of now stops that unit's retention; buckets never count from the future", () => {
  const daily = { latest: 1, hourly: 0, daily: 3, weekly: 0, monthly: 0, annual: 0 };
  const ps = managedPoints(["r1", "r2", "r3", "r4"].map((r) => snap(`c${r}`, r, "shop", "recipe")));
  // The clock once jumped ahead: r4 says 2026-01-04, and now is 2026-01-02 (the clock fixed since).
  const plan = planExpire(ps, "h", daily, { now: new Date("2026-01-02T12:00:00Z") });
  expect(plan.remove).toEqual([]);
  expect(plan.skipped).toEqual([
    {
      unit: "shop",
      reason:
        "point shop@r4-shop is dated 2026-01-04T00:00:00Z, later than now (2026-01-02T12:00:00.000Z): this host's clock was or is wrong; fix it, check that point (delete it if its date is wrong), then expire again",
    },
  ]);
  // The same points with the clock right: daily slots from the newest point back, r1 past them.
  const right = planExpire(ps, "h", daily, { now: new Date("2026-01-04T12:00:00Z") });
  expect(right.skipped).toEqual([]);
  expect(right.remove.map((p) => p.key)).toEqual(["shop@r1-shop"]);
});

test("backup --dry-run's retention: the run's own point counted in as the newest, then what goes", () => {
  const ps = managedPoints(["r1", "r2"].map((r) => snap(`c${r}`, r, "shop", "recipe")));
  const run = {
    host: "h",
    runId: "r3",
    units: [{ name: "shop", backupId: "r3-shop" }],
    now: new Date("2026-01-03T00:00:00Z"),
  };
  const plan = planExpireAfterBackup(ps, run, latest(2));
  expect(plan.remove.map((p) => p.key)).toEqual(["shop@r1-shop"]);
  expect(plan.kept.map((k) => k.key)).toEqual(["shop@r2-shop"]);
  // Units the run does not back up are not judged.
  expect(planExpireAfterBackup(ps, { ...run, units: [] }, latest(1)).remove).toEqual([]);
});

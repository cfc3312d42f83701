import { describe, expect, test } from "bun:test";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import type { ContainerState } from "../../../../src/core/restore/types.ts";
import { emptyState, manifest, recipe, request, unitBackup } from "./fixtures.ts";

// An image's labels are its builder's: a `kopi-docka.unit` label a container only inherits from an
// untrusted image does not make it a member of that unit at restore, as at discovery. Without this, an
// image labelled kopi-docka.unit=shop put its container `db` into shop: restoring shop in place would
// feed shop's dump into it, replace a volume it mounts, or stop it; and the reverse refused wrongly.

const UNIT = "kopi-docka.unit";
const GONE = "an unknown unit (db's image is gone, so whether its label kopi-docka.unit=blog is its own";
const container = (
  name: string,
  labels: Record<string, string>,
  unitLabel?: ContainerState["unitLabel"],
  volumes: string[] = [],
): ContainerState => ({
  id: name,
  name,
  running: true,
  volumes,
  binds: [],
  labels,
  ...(unitLabel ? { unitLabel } : {}),
});

describe("a volume another unit's container mounts is refused in place", () => {
  const points = groupRestorePoints(unitBackup("blog", "r1", "2026-01-01T10:00:00Z", ["pgdata"]));
  const blog = recipe({
    unit: "blog",
    type: "standalone",
    composeFiles: [],
    volumes: [{ name: "pgdata", driver: "local", options: {}, labels: {}, usedBy: ["blog"] }],
  });
  const plan = (c: ContainerState) =>
    planRestore(
      request({ unit: "blog", point: "blog@r1-blog", what: "volumes" }),
      points,
      emptyState({
        recipe: blog,
        volumes: { pgdata: { mountpoint: "/var/lib/docker/volumes/pgdata/_data", labels: {} } },
        containers: [c],
      }),
    ).refusals;

  test("an image's kopi-docka.unit=blog does not make db's volume blog's; db's own label does", () => {
    const [refusal] = plan(container("db", { [UNIT]: "blog" }, "image", ["pgdata"]));
    expect(refusal).toStartWith("volume pgdata on this host belongs to unit db (mounted by db), not blog:");
    expect(plan(container("db", { [UNIT]: "blog" }, undefined, ["pgdata"]))).toEqual([]);
  });

  test("its image gone, the label's provenance is unknown: refused, saying so", () => {
    const [refusal] = plan(container("db", { [UNIT]: "blog" }, "unknown", ["pgdata"]));
    expect(refusal).toStartWith(`volume pgdata on this host belongs to ${GONE}`);
  });

  test("the reverse: an image's kopi-docka.unit=shop does not make blog's own volume foreign", () => {
    expect(plan(container("blog", { [UNIT]: "shop" }, "image", ["pgdata"]))).toEqual([]);
    expect(plan(container("blog", { [UNIT]: "shop" }, undefined, ["pgdata"]))[0]).toStartWith(
      "volume pgdata on this host belongs to unit shop (mounted by blog), not blog:",
    );
  });
});

const dumpOf = (unit: string, from: string) =>
  groupRestorePoints([
    manifest({
      unit,
      backup_id: `r1-${unit}`,
      run_id: "r1",
      backup_scope: "minimal",
      timestamp: "2026-01-01T10:00:00Z",
      type: "dump",
      dump_container: from,
      dump_file: "pg_dumpall.sql",
      dump_preset: "postgres",
    }),
  ]);

describe("in place, a dump is fed only into a container of the restored unit", () => {
  const feed = (unit: string, c: ContainerState) =>
    planRestore(
      request({ unit, point: `${unit}@r1-${unit}` }),
      dumpOf(unit, c.name),
      emptyState({ containers: [c] }),
    );

  test("an image's kopi-docka.unit=blog does not make db blog's: its database is not replaced", () => {
    expect(feed("blog", container("db", { [UNIT]: "blog" }, "image")).refusals).toEqual([
      "dump of db: container db on this host belongs to unit db, not blog: its database is not replaced",
    ]);
    const [gone] = feed("blog", container("db", { [UNIT]: "blog" }, "unknown")).refusals;
    expect(gone).toStartWith(`dump of db: container db on this host belongs to ${GONE}`);
    const own = feed("blog", container("db", { [UNIT]: "blog" }));
    expect(own.refusals).toEqual([]);
    expect(own.dumps?.map((d) => d.container)).toEqual(["db"]);
  });

  test("the reverse: an image's kopi-docka.unit=app does not keep db's own dump out of it", () => {
    expect(feed("db", container("db", { [UNIT]: "app" }, "image")).refusals).toEqual([]);
    expect(feed("db", container("db", { [UNIT]: "app" })).refusals).toEqual([
      "dump of db: container db on this host belongs to unit app, not db: its database is not replaced",
    ]);
  });
});

test("fed in place, only the unit's own containers are stopped for the feed, never one an image labelled", () => {
  const shop = { "com.docker.compose.project": "shop" };
  const stopped = (unitLabel?: ContainerState["unitLabel"]) =>
    planRestore(
      request(),
      dumpOf("shop", "shop-db-1"),
      emptyState({
        containers: [container("shop-db-1", shop), container("db", { [UNIT]: "shop" }, unitLabel)],
      }),
    ).stop;
  expect(stopped("image")).toEqual([]);
  expect(stopped("unknown")).toEqual([]);
  expect(stopped()).toEqual([{ id: "db", name: "db" }]);
});

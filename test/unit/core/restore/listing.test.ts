import { expect, test } from "bun:test";
import { selectPoints } from "../../../../src/core/restore/listing.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import { undoManifest, unitBackup } from "./fixtures.ts";

const all = groupRestorePoints([
  ...unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["v"]),
  ...unitBackup("blog", "r1", "2026-01-01T10:00:00Z", ["w"]),
  ...unitBackup("shop", "r2", "2026-01-02T10:00:00Z", ["v"], { host: "other" }),
  undoManifest(),
]);

test.each<{ filter: Parameters<typeof selectPoints>[1]; points: string[]; undo: string[] }>([
  {
    filter: {},
    points: ["h1 shop@r1-shop", "h1 blog@r1-blog", "other shop@r2-shop"],
    undo: ["h1 shop@restore-1"],
  },
  {
    filter: { unit: "shop" },
    points: ["h1 shop@r1-shop", "other shop@r2-shop"],
    undo: ["h1 shop@restore-1"],
  },
  { filter: { host: "other" }, points: ["other shop@r2-shop"], undo: [] },
  { filter: { unit: "blog", host: "h1" }, points: ["h1 blog@r1-blog"], undo: [] },
  { filter: { unit: "nope" }, points: [], undo: [] },
])("selectPoints %o", ({ filter, points, undo }) => {
  const got = selectPoints(all, filter);
  const names = (ps: typeof got.points) => ps.map((p) => `${p.host} ${p.key}`).sort();
  expect(names(got.points)).toEqual([...points].sort());
  expect(names(got.undoPoints)).toEqual([...undo].sort());
});

import { describe, expect, test } from "bun:test";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import { emptyState, recipe, request, unitBackup } from "./fixtures.ts";

const points = groupRestorePoints(unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["shop_db"]));
/** shop_db as the recipe has it: a bind volume of `device` (or other options). */
const withVolume = (options: Record<string, string>) =>
  recipe({ volumes: [{ name: "shop_db", driver: "local", options, labels: {}, usedBy: [] }] });
const bindVolume = (device: string) => withVolume({ type: "none", o: "bind", device });
const HOST_INTERNAL = { host_internal_paths: ["/etc", "/var/lib/docker"], host_internal_basenames: [] };

describe("planRestore: where a volume's data goes, judged before anything stops", () => {
  test("a bind volume to create whose device directory still holds data (the volume removed, its files left): undo point first, its users stopped", () => {
    const state = emptyState({
      recipe: bindVolume("/srv/shop/pgdata"),
      devices: { "/srv/shop/pgdata": "data" },
      containers: [{ id: "c1", name: "backup-agent", running: true, volumes: [], binds: ["/srv/shop"] }],
    });
    const plan = planRestore(request(), points, state);
    expect(plan.refusals).toEqual([]);
    expect(plan.volumes[0]).toMatchObject({ name: "shop_db", action: "create" });
    expect(plan.undo).toEqual([{ kind: "volume", name: "shop_db", path: "/srv/shop/pgdata" }]);
    expect(plan.stop).toEqual([{ id: "c1", name: "backup-agent" }]);
  });

  test.each([
    ["missing", []],
    ["empty", []],
  ] as const)("a device directory %s: nothing to keep", (there, undo) => {
    const state = emptyState({
      recipe: bindVolume("/srv/shop/pgdata"),
      devices: { "/srv/shop/pgdata": there },
    });
    const plan = planRestore(request(), points, state);
    expect(plan.refusals).toEqual([]);
    expect(plan.undo).toEqual([...undo]);
  });

  test("a device directory in a host-internal path (a forged recipe): refused", () => {
    const state = emptyState({ recipe: bindVolume("/etc/shop"), hostInternal: HOST_INTERNAL });
    const plan = planRestore(request(), points, state);
    expect(plan.refusals).toHaveLength(1);
    expect(plan.refusals[0]).toStartWith(
      "volume shop_db: this host cannot restore into it: bind volume of /etc/shop:",
    );
  });

  test("a symlink at or above the device directory: refused, nothing restored through it", () => {
    const state = emptyState({
      recipe: bindVolume("/srv/shop/pgdata"),
      devices: { "/srv/shop/pgdata": "missing" },
      symlinks: { "/srv/shop/pgdata": { link: "/srv/shop", to: "/etc", resolved: "/etc/pgdata" } },
    });
    expect(planRestore(request(), points, state).refusals).toEqual([
      "volume shop_db: its device directory /srv/shop/pgdata has a symlink, /srv/shop (to /etc), that the backup did not record; nothing is restored through it. Remove the link, or restore a copy with --as",
    ]);
  });

  test("a file where the device directory goes: refused", () => {
    const state = emptyState({
      recipe: bindVolume("/srv/shop/pgdata"),
      devices: { "/srv/shop/pgdata": "other" },
    });
    expect(planRestore(request(), points, state).refusals).toEqual([
      "volume shop_db: its device path /srv/shop/pgdata is not a directory; move it away first",
    ]);
  });

  test("an existing volume this host cannot restore into, or a tmpfs one to create: refused up front, not half way", () => {
    const existing = emptyState({
      recipe: withVolume({ type: "nfs", o: "addr=nas", device: ":/export" }),
      volumes: {
        shop_db: {
          mountpoint: "/var/lib/docker/volumes/shop_db/_data",
          labels: {},
          notProtected: "type=nfs: …",
        },
      },
    });
    expect(planRestore(request(), points, existing).refusals).toEqual([
      "volume shop_db: this host cannot restore into it: type=nfs: …",
    ]);
    const tmpfs = emptyState({ recipe: withVolume({ type: "tmpfs", device: "tmpfs" }) });
    expect(planRestore(request(), points, tmpfs).refusals).toEqual([
      "volume shop_db: this host cannot restore into it: type=tmpfs: memory only",
    ]);
  });
});

import { describe, expect, test } from "bun:test";
import { COPY_OF_LABEL } from "../../../../src/core/restore/copy-owner.ts";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import { emptyState, recipe, request, unitBackup } from "./fixtures.ts";

// The recipe's volume shop_db is compose key "db" of project shop: a copy --as NAME names it NAME_db.
const points = groupRestorePoints(unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["shop_db"]));
const volumeOf = (labels: Record<string, string>) => ({
  mountpoint: "/var/lib/docker/volumes/x/_data",
  labels,
});

describe("planRestore --as: a copy writes only into what a copy of this unit made", () => {
  test("a copy's new volumes are labelled as copies of the unit", () => {
    const plan = planRestore(request({ as: "blog" }), points, emptyState({ recipe: recipe() }));
    expect(plan.refusals).toEqual([]);
    expect(plan.volumes[0]).toMatchObject({ name: "blog_db", action: "create" });
    expect(plan.volumes[0]?.labels[COPY_OF_LABEL]).toBe("shop");
  });

  test("--as naming another project whose volume exists: refused, its data untouched", () => {
    const state = emptyState({
      recipe: recipe(),
      volumes: {
        blog_db: volumeOf({ "com.docker.compose.project": "blog", "com.docker.compose.volume": "db" }),
      },
    });
    expect(planRestore(request({ as: "blog" }), points, state).refusals).toEqual([
      "volume blog_db exists and is not a copy of shop made by kopi-docka (it is compose project blog's): the copy would replace its data; choose another --as name, or remove that volume first if it is an old copy",
    ]);
  });

  test("an earlier copy of the same unit: restored into again", () => {
    const state = emptyState({
      recipe: recipe(),
      volumes: { blog_db: volumeOf({ "com.docker.compose.project": "blog", [COPY_OF_LABEL]: "shop" }) },
    });
    const plan = planRestore(request({ as: "blog" }), points, state);
    expect(plan.refusals).toEqual([]);
    expect(plan.volumes[0]).toMatchObject({ name: "blog_db", action: "overwrite" });
  });

  test("a copy of another unit under that name is not this one's", () => {
    const state = emptyState({
      recipe: recipe(),
      volumes: { blog_db: volumeOf({ [COPY_OF_LABEL]: "wiki" }) },
    });
    expect(planRestore(request({ as: "blog" }), points, state).refusals[0]).toStartWith(
      "volume blog_db exists and is not a copy of shop made by kopi-docka:",
    );
  });

  test("--as the original's own name: refused", () => {
    expect(planRestore(request({ as: "shop" }), points, emptyState({ recipe: recipe() })).refusals).toContain(
      "--as shop is the original's own name: the copy would be the original; restore in place (without --as), or choose another name",
    );
  });

  test("a copy whose --target-dir puts a bind onto the original's own path: refused", () => {
    const withBind = groupRestorePoints(
      unitBackup("shop", "r1", "2026-01-01T10:00:00Z", [], { binds: ["/srv/shop/uploads"] }),
    );
    const r = recipe({
      workingDir: "/srv/shop",
      bindMounts: [{ source: "/srv/shop/uploads", targets: [], kind: "directory" }],
    });
    const plan = planRestore(
      request({ as: "shop2", targetDir: "/srv/shop" }),
      withBind,
      emptyState({ recipe: r }),
    );
    const [bind] = plan.binds;
    expect(bind?.path).toBe("/srv/shop/uploads");
    expect(plan.refusals).toContain(
      "bind /srv/shop/uploads would be restored to /srv/shop/uploads, onto the original's /srv/shop/uploads: give the copy its own --target-dir",
    );
  });

  test("a copy whose --target-dir puts a bind volume's device onto the original's: refused", () => {
    // No bind mounts at all: the original's data is only in its bind volume's device under its home.
    const r = recipe({
      workingDir: "/srv/shop",
      volumes: [
        {
          name: "shop_db",
          driver: "local",
          options: { type: "none", o: "bind", device: "/srv/shop/pgdata" },
          labels: { "com.docker.compose.project": "shop", "com.docker.compose.volume": "db" },
          usedBy: ["shop_db_1"],
        },
      ],
    });
    const onHome = planRestore(
      request({ as: "shop2", targetDir: "/srv/shop" }),
      points,
      emptyState({ recipe: r }),
    );
    expect(onHome.volumes[0]?.options.device).toBe("/srv/shop/pgdata");
    expect(onHome.refusals).toContain(
      "volume shop2_db would keep its data in /srv/shop/pgdata, onto the original's /srv/shop/pgdata: give the copy its own --target-dir",
    );
    const apart = planRestore(
      request({ as: "shop2", targetDir: "/srv/shop2" }),
      points,
      emptyState({ recipe: r }),
    );
    expect(apart.volumes[0]?.options.device).toBe("/srv/shop2/pgdata");
    expect(apart.refusals).toEqual([]);
  });
});

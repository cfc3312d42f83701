import { expect, test } from "bun:test";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import { emptyState, recipe, request, unitBackup } from "./fixtures.ts";

// `--only binds` of /srv/shop/data, while a container mounts a bind volume whose device is
// /srv/shop/data/uploads: docker reports that mount as a volume, yet the container writes into the
// directory the restore renames away and deletes.
test("a running container whose bind volume's device lies in a restored bind is stopped (and started again)", () => {
  const points = groupRestorePoints(
    unitBackup("shop", "r1", "2026-01-01T10:00:00Z", [], { binds: ["/srv/shop/data"] }),
  );
  const r = recipe({
    workingDir: "/srv/shop",
    volumes: [],
    bindMounts: [{ source: "/srv/shop/data", targets: [], kind: "directory" }],
  });
  const uploads = {
    id: "c9",
    name: "shop_uploads_1",
    running: true,
    volumes: ["shop_uploads"],
    binds: [],
    labels: { "com.docker.compose.project": "shop" },
  };
  const state = (devices?: string[]) =>
    emptyState({ recipe: r, containers: [{ ...uploads, ...(devices ? { devices } : {}) }] });
  const plan = planRestore(request({ what: "binds" }), points, state(["/srv/shop/data/uploads"]));
  expect(plan.stop).toEqual([{ id: "c9", name: "shop_uploads_1" }]);
  expect(plan.users).toEqual(["c9"]);
  // A device elsewhere is not a user.
  expect(planRestore(request({ what: "binds" }), points, state(["/srv/other"])).stop).toEqual([]);
});

import { expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import { groupRestorePoints } from "../../../src/core/restore/points.ts";
import type { RestorePlan, RestoreRequest } from "../../../src/core/restore/types.ts";
import { restoreWizard } from "../../../src/ui/restore-wizard.ts";
import { unitBackup } from "../core/restore/fixtures.ts";

const points = groupRestorePoints(unitBackup("shop", "r1", "2026-01-01T10:00:00Z", []));

/** A plan with a bind target under a host-internal path: refused until that exact path is allowed. */
function planFor(r: RestoreRequest): RestorePlan {
  const open = !(r.allowPaths ?? []).includes("/etc/shop");
  return {
    request: r,
    point: { ...(points.points[0] as RestorePlan["point"]) },
    unitType: "compose",
    project: "shop",
    targetDir: "/opt/stacks/shop",
    hooks: { pre: "", post: "" },
    ...{ stop: [], undo: [], volumes: [], binds: [], networks: [], files: [], missing: [], warnings: [] },
    refusals: open ? ["bind mount /etc/shop is a host internal path …"] : [],
    ...(open ? { confirmPaths: ["/etc/shop"] } : {}),
  };
}

function drive(key: string) {
  const input = new PassThrough();
  const output = new PassThrough();
  let asked = false;
  output.on("data", (d) => {
    if (!asked && String(d).includes("/etc/shop, a host-internal path")) {
      asked = true;
      setTimeout(() => input.write(key), 10);
    }
  });
  const requests: RestoreRequest[] = [];
  const given = {
    unit: "shop",
    latest: true,
    fromHost: "h1",
    as: "",
    start: false,
    only: "binds",
    yes: true,
  };
  const preview = async (r: RestoreRequest) => {
    requests.push(r);
    return planFor(r);
  };
  const result = restoreWizard({ points, thisHost: "h1", preview, given }, { input, output });
  return { requests, result };
}

test("a host-internal bind target: the wizard asks about that exact path; yes allows only it", async () => {
  const { requests, result } = drive("y");
  expect((await result).allowPaths).toEqual(["/etc/shop"]);
  expect(requests.map((r) => r.allowPaths ?? [])).toEqual([[], ["/etc/shop"]]);
});

test("no to the host-internal path cancels", async () => {
  await expect(drive("n").result).rejects.toThrow("cancelled");
});

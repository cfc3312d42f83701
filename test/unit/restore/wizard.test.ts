import { expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import { groupRestorePoints } from "../../../src/core/restore/points.ts";
import type { RestorePlan, RestoreRequest } from "../../../src/core/restore/types.ts";
import { restoreWizard } from "../../../src/ui/restore-wizard.ts";
import { unitBackup } from "./fixtures.ts";

const points = groupRestorePoints(unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["shop_db"]));

/** A plan whose network conflicts unless the request allows replacing it. */
function planFor(r: RestoreRequest): RestorePlan {
  const action = r.recreateNetworks ? "recreate" : "conflict";
  return {
    request: r,
    point: { ...(points.points[0] as RestorePlan["point"]) },
    unitType: "compose",
    project: "shop",
    targetDir: "/opt/stacks/shop",
    hooks: { pre: "", post: "" },
    stop: [],
    undo: [],
    volumes: [],
    binds: [],
    networks: [{ name: "shop_default", action, inspect: {}, note: "exists with driver overlay" }],
    files: [],
    missing: [],
    refusals: r.recreateNetworks ? [] : ["network shop_default …"],
    warnings: [],
  };
}

/** Runs the wizard with every step given but the network question, and answers it with `key`. */
function drive(key: string): { requests: RestoreRequest[]; result: Promise<RestoreRequest> } {
  const input = new PassThrough();
  const output = new PassThrough();
  let screen = "";
  let answered = false;
  // The key goes in once the question is on screen (a tick later: clack reads input after it drew).
  output.on("data", (d) => {
    screen += String(d);
    if (!answered && screen.includes("Network shop_default")) {
      answered = true;
      setTimeout(() => input.write(key), 10);
    }
  });
  const requests: RestoreRequest[] = [];
  const given = {
    unit: "shop",
    latest: true,
    fromHost: "h1",
    as: "shop2",
    start: false,
    only: "volumes",
    yes: true,
  };
  const preview = async (r: RestoreRequest) => {
    requests.push(r);
    return planFor(r);
  };
  const result = restoreWizard({ points, thisHost: "h1", preview, given }, { input, output });
  return { requests, result };
}

test("a conflicting network: the wizard asks, and yes plans again with replacing allowed", async () => {
  const { requests, result } = drive("y");
  const request = await result;
  expect(request.recreateNetworks).toBe(true);
  expect(requests.map((r) => r.recreateNetworks)).toEqual([false, true]);
  expect(request).toMatchObject({ unit: "shop", as: "shop2", point: "shop@r1-shop", start: false });
});

test("declining to replace the network cancels (exit 130 path), nothing planned twice", async () => {
  const { requests, result } = drive("n");
  await expect(result).rejects.toThrow("cancelled");
  expect(requests.length).toBe(1);
});

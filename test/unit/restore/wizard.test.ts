import { expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import { groupRestorePoints } from "../../../src/core/restore/points.ts";
import type { RestoreFlags } from "../../../src/core/restore/request.ts";
import type { RestorePlan, RestoreRequest } from "../../../src/core/restore/types.ts";
import { restoreWizard } from "../../../src/ui/restore-wizard.ts";
import { unitBackup } from "./fixtures.ts";

const points = groupRestorePoints(unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["shop_db"]));

/** A plan whose network conflicts unless replacing is allowed, and whose --start needs an env file. */
function planFor(r: RestoreRequest): RestorePlan {
  const network = r.recreateNetworks ? "recreate" : "conflict";
  const refusals = [
    ...(r.recreateNetworks ? [] : ["network shop_default …"]),
    ...(r.start && !r.envFile ? ["web: TOKEN was redacted in the backup; pass --env-file FILE …"] : []),
  ];
  return {
    request: r,
    point: { ...(points.points[0] as RestorePlan["point"]) },
    unitType: "standalone",
    project: "shop",
    targetDir: "/opt/stacks/shop",
    hooks: { pre: "", post: "" },
    stop: [],
    undo: [],
    volumes: [],
    binds: [],
    networks: [
      {
        name: "shop_default",
        action: network,
        inspect: { Name: "shop_default", Id: "n1", Driver: "overlay" },
        note: "exists with driver overlay",
      },
    ],
    files: [],
    missing: [],
    refusals,
    warnings: [],
  };
}

/**
 * Runs the wizard with every step given by flags, and answers the questions it still asks: each
 * `[text on screen, keys]` in turn, once that text is on screen (a tick later: clack reads its input
 * only after it drew the question).
 */
function drive(
  answers: [string, string][],
  over: Partial<RestoreFlags> = {},
): { requests: RestoreRequest[]; result: Promise<RestoreRequest> } {
  const input = new PassThrough();
  const output = new PassThrough();
  let screen = "";
  const pending = [...answers];
  output.on("data", (d) => {
    screen += String(d);
    const next = pending[0];
    if (next && screen.includes(next[0])) {
      pending.shift();
      screen = "";
      setTimeout(() => input.write(next[1]), 10);
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
    ...over,
  };
  const preview = async (r: RestoreRequest) => {
    requests.push(r);
    return planFor(r);
  };
  const result = restoreWizard({ points, thisHost: "h1", preview, given }, { input, output });
  return { requests, result };
}

test("a conflicting network: the wizard asks, and yes plans again with replacing allowed", async () => {
  const { requests, result } = drive([["Network shop_default", "y"]]);
  const request = await result;
  expect(request.recreateNetworks).toBe(true);
  expect(requests.map((r) => r.recreateNetworks)).toEqual([false, true]);
  expect(request).toMatchObject({ unit: "shop", as: "shop2", point: "shop@r1-shop", start: false });
});

test("declining to replace the network cancels (exit 130 path), nothing planned twice", async () => {
  const { requests, result } = drive([["Network shop_default", "n"]]);
  await expect(result).rejects.toThrow("cancelled");
  expect(requests.length).toBe(1);
});

test("--start refused for a redacted secret: the wizard asks for an env file and plans again with it", async () => {
  const { requests, result } = drive(
    [
      ["Network shop_default", "y"],
      ["Env file with the real values", "web.env\r"],
    ],
    { start: true },
  );
  const request = await result;
  expect(request.envFile).toBe(`${process.cwd()}/web.env`);
  expect(requests.map((r) => [r.recreateNetworks, r.envFile ?? null])).toEqual([
    [false, null],
    [true, null],
    [true, `${process.cwd()}/web.env`],
  ]);
});

test("an empty answer to the env file question restores without starting", async () => {
  const { result } = drive(
    [
      ["Network shop_default", "y"],
      ["Env file with the real values", "\r"],
    ],
    { start: true },
  );
  expect(await result).toMatchObject({ start: false });
});

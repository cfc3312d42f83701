import { expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import { groupRestorePoints, type RestorePoints } from "../../../src/core/restore/points.ts";
import type { RestoreFlags } from "../../../src/core/restore/request.ts";
import type { RestorePlan, RestoreRequest } from "../../../src/core/restore/types.ts";
import { restoreWizard } from "../../../src/ui/restore-wizard.ts";
import { unitBackup } from "../core/restore/fixtures.ts";

const points = groupRestorePoints(unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["shop_db"]));

/**
 * A plan whose network conflicts unless replacing is allowed, whose --start needs an env file, and
 * (`differ`) whose compose file at the target differs from the backup's.
 */
function planFor(r: RestoreRequest, differ = false): RestorePlan {
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
        pinSubnets: true,
      },
    ],
    files: differ
      ? [{ stored: "compose/01-docker-compose.yml", to: "/srv/shop/docker-compose.yml", action: "overwrite" }]
      : [],
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
  o: { points?: RestorePoints; differ?: boolean } = {},
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
    return planFor(r, o.differ);
  };
  const result = restoreWizard(
    { points: o.points ?? points, thisHost: "h1", preview, given },
    { input, output },
  );
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

const DOWN = "\x1b[B";

test("without --unit: the unit is asked first, then that unit's restore points (newest first)", async () => {
  const two = groupRestorePoints([
    ...unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["shop_db"]),
    ...unitBackup("blog", "r2", "2026-01-02T10:00:00Z", ["blog_db"]),
    ...unitBackup("shop", "r2", "2026-01-02T10:00:00Z", ["shop_db"]),
  ]);
  const { result } = drive(
    [
      ["Which unit?", `${DOWN}\r`],
      ["Which restore point of shop?", `${DOWN}\r`],
      ["Network shop_default", "y"],
    ],
    { unit: undefined, latest: undefined },
    { points: two },
  );
  expect(await result).toMatchObject({ unit: "shop", point: "shop@r1-shop" });
}, 10_000);

test("compose files that differ at the target: the wizard asks; yes plans again with replacing allowed", async () => {
  const { requests, result } = drive(
    [
      ["Network shop_default", "y"],
      ["holds other versions of docker-compose.yml", "y"],
    ],
    {},
    { differ: true },
  );
  expect(await result).toMatchObject({ replaceFiles: true, recreateNetworks: true });
  expect(requests.map((r) => Boolean(r.replaceFiles))).toEqual([false, false, true]);
}, 10_000);

test("declining to replace differing compose files cancels: nothing changed", async () => {
  const { result } = drive(
    [
      ["Network shop_default", "y"],
      ["holds other versions of docker-compose.yml", "n"],
    ],
    {},
    { differ: true },
  );
  await expect(result).rejects.toThrow("cancelled");
}, 10_000);

import { describe, expect, test } from "bun:test";
import { createKopia } from "../../../../src/core/kopia/kopia.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { executeRestore } from "../../../../src/core/restore/execute.ts";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import { flagsComplete, requestFromFlags, restoreFlags } from "../../../../src/core/restore/request.ts";
import { Lifecycle } from "../../../../src/core/safe-exit.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { config } from "../backup/fixtures.ts";
import { emptyState, recipe, unitBackup } from "./fixtures.ts";

const points = groupRestorePoints(unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["shop_db"]));

describe("restore flags", () => {
  test("only given flags are set; the --volume values are kept", () => {
    const f = restoreFlags({ unit: "shop", start: true, "env-file": "x.env" }, ["a", "b", "c"]);
    expect(f).toEqual({ unit: "shop", start: true, envFile: "x.env", volume: ["a", "b", "c"] });
    expect(restoreFlags({ unit: "shop" }, [])).toEqual({ unit: "shop" });
    expect(flagsComplete(f)).toBe(false);
    expect(flagsComplete({ ...f, latest: true })).toBe(true);
  });

  test("an empty --volume item is a usage error, never every volume", () => {
    for (const volume of [[","], ["a,"], ["a", " "]]) {
      expect(() => requestFromFlags({ unit: "shop", latest: true, volume }, points, "h1")).toThrow(
        "--volume has an empty name",
      );
    }
  });

  test("--latest skips an incomplete point; with only incomplete ones it names the newest and --run", () => {
    const older = unitBackup("shop", "r1", "2026-01-01T10:00:00Z", ["shop_db"]);
    const broken = unitBackup("shop", "r2", "2026-01-02T10:00:00Z", ["shop_db"], {
      incompleteVolume: "shop_db",
    });
    const both = groupRestorePoints([...older, ...broken]);
    expect(requestFromFlags({ unit: "shop", latest: true }, both, "h1").point).toBe("shop@r1-shop");
    const onlyBroken = groupRestorePoints(broken);
    expect(() => requestFromFlags({ unit: "shop", latest: true }, onlyBroken, "h1")).toThrow(
      "the newest, shop@r2-shop, is incomplete",
    );
  });

  test("a request from flags: the env file path made absolute, volumes split", () => {
    const r = requestFromFlags(
      { unit: "shop", latest: true, volume: ["shop_db"], envFile: "x.env" },
      points,
      "h1",
    );
    expect(r).toMatchObject({ point: "shop@r1-shop", what: "volumes", volumes: ["shop_db"] });
    expect(r.envFile).toBe(`${process.cwd()}/x.env`);
  });
});

test("a plan with refusals is refused before any hook, stop or snapshot (strict fake: no command)", async () => {
  const state = emptyState({
    recipe: recipe(),
    networks: { shop_default: { driver: "overlay", subnets: [] } },
  });
  const request = requestFromFlags({ unit: "shop", latest: true }, points, "h1");
  const plan = planRestore(request, points, state);
  const runner = new FakeRunner();
  const kopia = createKopia(runner, {
    configFile: "/k",
    cacheDir: "/c",
    logDir: "/l",
    password: () => "pw",
    hostname: "h1",
    username: "kopi-docka",
  });
  const deps = {
    config: config(),
    runner,
    docker: new FakeDocker(),
    kopia,
    log: silentLogger(),
    lifecycle: new Lifecycle(),
    hostname: "h1",
    version: "0",
    paths: { journalDir: "/nonexistent-kd/journal" },
  };
  const run = executeRestore(deps, plan, { runId: "r", tempDir: "/nonexistent-kd", now: new Date() });
  await expect(run).rejects.toThrow("network shop_default exists with driver overlay");
  expect(runner.calls).toEqual([]);
  expect(deps.docker.calls).toEqual([]);
});

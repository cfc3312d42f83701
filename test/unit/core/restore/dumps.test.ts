import { describe, expect, test } from "bun:test";
import { ConfigSchema } from "../../../../src/config/schema.ts";
import { createKopia } from "../../../../src/core/kopia/kopia.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { restoreDump } from "../../../../src/core/restore/dump-feed.ts";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { emptyState, manifest, request } from "./fixtures.ts";

const base = {
  unit: "shop",
  backup_id: "r1-shop",
  run_id: "r1",
  backup_scope: "minimal",
  timestamp: "2026-01-01T10:00:00Z",
};
const dump = (over: Record<string, string> = {}) =>
  manifest({
    ...base,
    type: "dump",
    dump_container: "shop-db-1",
    dump_file: "pg_dumpall.sql",
    dump_preset: "postgres",
    ...over,
  });
const running = [{ id: "c1", name: "shop-db-1", running: true, volumes: [], binds: [] }];

describe("dump restore points", () => {
  test("a dump is listed with the stored file to read back; forged tags are rejected", () => {
    const m = dump();
    const p = groupRestorePoints([m]).points[0];
    expect(p?.dumps).toEqual([
      {
        id: m.id,
        sizeBytes: 100,
        files: 2,
        container: "shop-db-1",
        object: `${m.rootEntry?.obj}/pg_dumpall.sql`,
        preset: "postgres",
      },
    ]);
    const forged = groupRestorePoints([
      dump({ dump_container: "../x" }),
      dump({ dump_file: "../../etc/passwd" }),
      dump({ dump_preset: "sh" }),
    ]);
    expect(forged.points).toEqual([]);
    expect(forged.rejected?.length).toBe(3);
  });

  test("the restore command comes from this host's config or the dump's preset, never from the snapshot", () => {
    const points = groupRestorePoints([dump()]);
    const plan = planRestore(request(), points, emptyState({ containers: running }));
    expect(plan.refusals).toEqual([]);
    expect(plan.dumps).toMatchObject([
      { container: "shop-db-1", restore: ["psql", "-X", "-q", "-U", "postgres", "-d", "postgres"] },
    ]);
    const own = ConfigSchema.parse({ units: { shop: { restore_command: ["psql", "-U", "app"] } } }).units
      .shop;
    const mine = planRestore(request(), points, emptyState({ containers: running, unitConfig: own }));
    expect(mine.dumps?.[0]?.restore).toEqual(["psql", "-U", "app"]);
    const { dump_preset: _, ...tags } = {
      ...base,
      type: "dump",
      dump_container: "shop-db-1",
      dump_file: "dump",
      dump_preset: "",
    };
    const noPreset = groupRestorePoints([manifest(tags)]);
    expect(planRestore(request(), noPreset, emptyState({ containers: running })).refusals[0]).toContain(
      "restore_command",
    );
  });

  test("a dump needs its container running: refused before anything changes, unless --start starts it", () => {
    const plan = planRestore(request(), groupRestorePoints([dump()]), emptyState());
    expect(plan.refusals).toEqual([
      "dump of shop-db-1: container shop-db-1 is not running; start it (or restore with --start), then restore again",
    ]);
    expect(
      planRestore(request({ what: "recipe" }), groupRestorePoints([dump()]), emptyState()).dumps,
    ).toBeUndefined();
  });

  test("restoreDump streams kopia show into docker exec -i; a failing restore command is an error with its stderr", async () => {
    const runner = new FakeRunner([
      { argv: ["kopia", "--config-file", "/x/c", "show", "kroot/pg_dumpall.sql"], stdout: "CREATE TABLE t;" },
      { argv: ["kopia", "--config-file", "/x/c", "show", "kroot/pg_dumpall.sql"], stdout: "x" },
    ]);
    const kopia = createKopia(runner, {
      configFile: "/x/c",
      cacheDir: "/c",
      logDir: "/l",
      password: () => "pw",
      hostname: "h",
      username: "u",
    });
    const docker = new FakeDocker({ containers: [FakeDocker.container("shop-db-1")] });
    const step = {
      container: "shop-db-1",
      from: "shop-db-1",
      snapshotId: "m1",
      object: "kroot/pg_dumpall.sql",
      sizeBytes: 1,
      restore: ["psql"],
    };
    await restoreDump({ docker, kopia, log: silentLogger() }, step);
    expect(docker.execStdin).toEqual(["CREATE TABLE t;"]);
    docker.execAnswer = () => ({ exitCode: 3, stderr: "psql: FATAL: password=hunter2 rejected" });
    await expect(restoreDump({ docker, kopia, log: silentLogger() }, step)).rejects.toThrow(
      /`psql` in shop-db-1 exited 3: psql: FATAL: password=\*/,
    );
  });

  test("a running database is dumped into an undo point first; one the plan starts or stops is not", () => {
    const points = groupRestorePoints([dump()]);
    const now = planRestore(request(), points, emptyState({ containers: running }));
    expect(now.dumps?.[0]?.undo).toMatchObject({
      dump: ["pg_dumpall", "--clean", "--if-exists", "-U", "postgres"],
      file: "pg_dumpall.sql",
      preset: "postgres",
    });
    const stopped = planRestore(request(), points, emptyState());
    expect(stopped.dumps?.[0]?.undo).toBeUndefined();
    expect(stopped.warnings.join("\n")).toContain("no undo point");
  });
});

test("a preset's readiness probe is polled before the dump is fed; a database never ready is an error", async () => {
  const runner = new FakeRunner([{ argv: (a) => a.includes("show"), stdout: "SQL" }]);
  const kopia = createKopia(runner, {
    configFile: "/x/c",
    cacheDir: "/c",
    logDir: "/l",
    password: () => "pw",
    hostname: "h",
    username: "u",
  });
  const docker = new FakeDocker({ containers: [FakeDocker.container("db")] });
  let probes = 0;
  docker.execAnswer = (_c, argv) => (argv[0] === "pg_isready" ? { exitCode: ++probes < 3 ? 2 : 0 } : {});
  const step = {
    container: "db",
    from: "db",
    snapshotId: "m1",
    object: "k1/x.sql",
    sizeBytes: 1,
    restore: ["psql"],
    ready: ["pg_isready", "-q"],
  };
  const d = { docker, kopia, log: silentLogger(), sleep: async () => {} };
  await restoreDump(d, step);
  expect(docker.calls).toEqual([
    "running? db",
    "exec db pg_isready -q",
    "exec db pg_isready -q",
    "exec db pg_isready -q",
    "exec db psql",
  ]);
  docker.execAnswer = () => ({ exitCode: 2, stderr: "no response" });
  await expect(restoreDump(d, step, undefined, 0)).rejects.toThrow(
    /did not get ready within 0 s .*no response/,
  );
});

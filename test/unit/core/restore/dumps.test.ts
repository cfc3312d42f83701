import { describe, expect, test } from "bun:test";
import { ConfigSchema } from "../../../../src/config/schema.ts";
import { AppError } from "../../../../src/core/errors.ts";
import { createKopia } from "../../../../src/core/kopia/kopia.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import type { Runner } from "../../../../src/core/process/runner.ts";
import { COPY_OF_LABEL } from "../../../../src/core/restore/copy-owner.ts";
import { restoreDump } from "../../../../src/core/restore/dump-feed.ts";
import { planRestore } from "../../../../src/core/restore/plan.ts";
import { groupRestorePoints } from "../../../../src/core/restore/points.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { emptyState, manifest, recipe, request } from "./fixtures.ts";

/** kopia over the strict fake runner, at the config path the expected argv name. */
const kopiaOver = (runner: Runner) =>
  createKopia(runner, {
    configFile: "/x/c",
    cacheDir: "/c",
    logDir: "/l",
    password: () => "pw",
    hostname: "h",
    username: "u",
  });

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
const shopLabels = { "com.docker.compose.project": "shop" };
const running = [{ id: "c1", name: "shop-db-1", running: true, volumes: [], binds: [], labels: shopLabels }];

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

  test("a config naming another preset than the dump was made by: refused, unless mysql and mariadb", () => {
    const points = groupRestorePoints([dump()]);
    const unit = (dump: string) => ConfigSchema.parse({ units: { shop: { dump } } }).units.shop;
    const other = planRestore(
      request(),
      points,
      emptyState({ containers: running, unitConfig: unit("mysql") }),
    );
    expect(other.refusals).toEqual([
      'dump of shop-db-1: it was made by the postgres preset, but [units.shop] dump = "mysql" now; set dump = "postgres" (or a restore_command that reads a postgres dump) for this restore',
    ]);
    const same = planRestore(
      request(),
      points,
      emptyState({ containers: running, unitConfig: unit("postgres") }),
    );
    expect(same.refusals).toEqual([]);
    const maria = groupRestorePoints([dump({ dump_preset: "mysql", dump_file: "all-databases.sql" })]);
    const kin = planRestore(
      request(),
      maria,
      emptyState({ containers: running, unitConfig: unit("mariadb") }),
    );
    expect(kin.refusals).toEqual([]);
    expect(kin.dumps?.[0]?.restore).toEqual(["mariadb"]);
  });

  test("--volume NAME restores only that volume: the database is not replaced from its dump as well", () => {
    const vol = manifest({ ...base, type: "volume", volume: "shop_uploads" });
    const points = groupRestorePoints([dump(), vol]);
    const only = planRestore(
      request({ volumes: ["shop_uploads"] }),
      points,
      emptyState({ containers: running }),
    );
    expect(only.volumes.map((v) => v.name)).toEqual(["shop_uploads"]);
    expect(only.dumps ?? []).toEqual([]);
    const all = planRestore(request({ what: "volumes" }), points, emptyState({ containers: running }));
    expect(all.dumps?.map((d) => d.container)).toEqual(["shop-db-1"]);
  });

  test("fed in place, the unit's other running containers (its clients) are stopped for the feed; a copy or --volume stops none", () => {
    const points = groupRestorePoints([
      dump(),
      manifest({ ...base, type: "volume", volume: "shop_uploads" }),
    ]);
    const shop = { "com.docker.compose.project": "shop" };
    const containers = [
      { id: "c1", name: "shop-db-1", running: true, volumes: [], binds: [], labels: shop },
      { id: "c2", name: "shop-app-1", running: true, volumes: [], binds: [], labels: shop },
      { id: "c3", name: "shop-worker-1", running: false, volumes: [], binds: [], labels: shop },
      {
        id: "c4",
        name: "elsewhere",
        running: true,
        volumes: [],
        binds: [],
        labels: { "com.docker.compose.project": "other" },
      },
    ];
    // The recipe (read back from the snapshot) names another unit's container: never taken for a client.
    const forged = [
      { name: "shop-db-1", service: "db", image: "postgres:16", running: true },
      { name: "elsewhere", service: "app", image: "app", running: true },
    ];
    const state = emptyState({ containers, recipe: recipe({ containers: forged, volumes: [] }) });
    const plan = planRestore(request(), points, state);
    expect(plan.refusals).toEqual([]);
    // Not the database itself (it is fed), not one that is not running, not another unit's.
    expect(plan.stop).toEqual([{ id: "c2", name: "shop-app-1" }]);
    expect(plan.dumps?.[0]?.undo).toBeDefined();
    expect(planRestore(request({ as: "copy", start: true }), points, state).stop).toEqual([]);
    expect(planRestore(request({ volumes: ["shop_uploads"] }), points, state).stop).toEqual([]);
  });

  test("in place, the container a dump names must be this unit's on this host: another unit's is refused", () => {
    const db = (labels: Record<string, string>) => [
      { id: "c1", name: "shop-db-1", running: true, volumes: [], binds: [], labels },
    ];
    for (const [labels, owner] of [
      [{ "com.docker.compose.project": "bank" }, "bank"],
      [{}, "shop-db-1"],
    ] as const) {
      const plan = planRestore(
        request(),
        groupRestorePoints([dump()]),
        emptyState({ containers: db(labels) }),
      );
      expect(plan.refusals).toEqual([
        `dump of shop-db-1: container shop-db-1 on this host belongs to unit ${owner}, not shop: its database is not replaced`,
      ]);
    }
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
    const kopia = kopiaOver(runner);
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

  test("postgres: psql goes on past a failed statement and exits 0; any failure but the expected ones fails the restore", async () => {
    const show = {
      argv: (a: readonly string[]) => a.includes("show"),
      stdout: "DROP DATABASE IF EXISTS appdb;",
    };
    const kopia = kopiaOver(new FakeRunner([show, show, show, show]));
    const docker = new FakeDocker({ containers: [FakeDocker.container("db")] });
    const step = {
      container: "db",
      from: "db",
      snapshotId: "m1",
      object: "k1/pg_dumpall.sql",
      sizeBytes: 1,
      restore: ["psql", "-X", "-q", "-U", "postgres", "-d", "postgres"],
      preset: "postgres" as const,
    };
    // What a pg_dumpall --clean script always says in a running server: not a failure.
    const expected = 'ERROR:  current user cannot be dropped\nERROR:  role "postgres" already exists\n';
    docker.execAnswer = () => ({ stderr: expected });
    await restoreDump({ docker, kopia, log: silentLogger() }, step);
    // Other sessions are ended in the same session, right before the dump's first DROP DATABASE.
    expect(docker.execStdin[0]).toStartWith("-- kopi-docka: end the other sessions");
    expect(docker.execStdin[0]).toContain("pg_terminate_backend(pid)");
    expect(docker.execStdin[0]).toEndWith("END $$;\nDROP DATABASE IF EXISTS appdb;");
    // Its messages in English whatever the server's language, on every connection the dump opens.
    expect(docker.calls).toContain(
      "exec -e PGOPTIONS=-c lc_messages=C db psql -X -q -U postgres -d postgres",
    );
    // A client that reconnected in between: the old database stays and the dump clashes with it.
    docker.execAnswer = () => ({
      stderr: `${expected}ERROR:  database "appdb" is being accessed by other users\nDETAIL:  There is 1 other session using the database.\nERROR:  database "appdb" already exists\nERROR:  relation "t" already exists\nERROR:  duplicate key value violates unique constraint "t_pkey"\n`,
    });
    const err = await restoreDump({ docker, kopia, log: silentLogger() }, step).catch((e) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe("restore_failed");
    expect(err.message).toContain("4 statement(s) failed: the database is not as it was at the backup");
    expect(err.message).toContain('database "appdb" is being accessed by other users');
    expect(err.hint).toContain("stop the containers that use this database");
    // A restore command of one's own gets neither: it is fed the dump alone, its exit code decides.
    docker.execStdin.length = 0;
    const { preset: _, ...own } = step;
    await restoreDump({ docker, kopia, log: silentLogger() }, { ...own, restore: ["my-restore"] });
    expect(docker.execStdin).toEqual(["DROP DATABASE IF EXISTS appdb;"]);
    expect(docker.calls.at(-1)).toBe("exec db my-restore");
    // mariadb: the client stops at its first error itself; its prelude ends the other sessions, whose
    // open transactions would make each DROP TABLE wait.
    docker.execStdin.length = 0;
    await restoreDump(
      { docker, kopia, log: silentLogger() },
      { ...own, restore: ["mariadb"], preset: "mariadb" },
    );
    expect(docker.execStdin[0]).toStartWith("-- kopi-docka: end the other sessions");
    expect(docker.execStdin[0]).toContain("EXECUTE IMMEDIATE CONCAT('KILL CONNECTION ', s.id)");
    expect(docker.execStdin[0]).toEndWith("DELIMITER ;\nDROP DATABASE IF EXISTS appdb;");
    expect(docker.calls.at(-1)).toBe("exec db mariadb");
  });

  test("a running database is dumped into an undo point first; one the plan starts is not", () => {
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

  test("a stopped database that --start starts is dumped into the undo point once it runs; a missing one cannot be", () => {
    const points = groupRestorePoints([dump()]);
    const stoppedDb = running.map((c) => ({ ...c, running: false }));
    const shop = recipe({ containers: [{ name: "shop-db-1", image: "postgres:16", service: "db" }] });
    const state = (containers: typeof stoppedDb) => emptyState({ recipe: shop, containers });
    const started = planRestore(request({ start: true }), points, state(stoppedDb));
    expect(started.refusals).toEqual([]);
    expect(started.dumps?.[0]?.undo).toMatchObject({ file: "pg_dumpall.sql", stopped: true });
    expect(started.warnings.join("\n")).not.toContain("no undo point");
    const gone = planRestore(request({ start: true }), points, state([]));
    expect(gone.dumps?.[0]?.undo).toBeUndefined();
    expect(gone.warnings.join("\n")).toContain("no undo point");
  });

  test("a running database the restore also stops (a volume of its own restored) still gets its undo dump", () => {
    const points = groupRestorePoints([dump(), manifest({ ...base, type: "volume", volume: "shop_conf" })]);
    const db = [
      { id: "c1", name: "shop-db-1", running: true, volumes: ["shop_conf"], binds: [], labels: shopLabels },
    ];
    const plan = planRestore(request(), points, emptyState({ containers: db }));
    expect(plan.stop).toEqual([{ id: "c1", name: "shop-db-1" }]);
    // `execute.ts` dumps it after its clients stopped and before it stops itself.
    expect(plan.dumps?.[0]?.undo).toBeDefined();
    expect(plan.warnings.join("\n")).not.toContain("no undo point");
  });

  test("--start of a compose unit with a dump starts the database's service first, the rest once it is fed", () => {
    const points = groupRestorePoints([dump()]);
    const state = (service: string | undefined) =>
      emptyState({
        recipe: recipe({
          containers: [{ name: "shop-db-1", image: "postgres:16", ...(service ? { service } : {}) }],
        }),
      });
    const plan = planRestore(request({ start: true }), points, state("db"));
    expect(plan.start).toMatchObject({ kind: "compose", first: ["db"] });
    // Unknown, or not a docker name (it becomes an argument of `compose up`): the whole project, and a warning.
    for (const service of [undefined, "--build"]) {
      const p = planRestore(request({ start: true }), points, state(service));
      expect(p.start?.kind === "compose" && p.start.first).toBeUndefined();
      expect(p.warnings.join("\n")).toContain("the whole project starts before its dump is fed");
    }
  });
});

test("a preset's readiness probe is polled before the dump is fed; a database never ready is an error", async () => {
  const runner = new FakeRunner([{ argv: (a) => a.includes("show"), stdout: "SQL" }]);
  const kopia = kopiaOver(runner);
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

test("sqlite: the copy into the file follows a dump read whole, and never a torn one", async () => {
  const step = {
    container: "db",
    from: "db",
    snapshotId: "m1",
    object: "k1/sqlite.sql",
    sizeBytes: 1,
    restore: ["sqlite3", "-bail"],
    end: "\n.backup main /data/app.db\n",
  };
  const whole = new FakeDocker({ containers: [FakeDocker.container("db")] });
  const ok = { argv: (a: readonly string[]) => a.includes("show"), stdout: "CREATE TABLE q(x);" };
  await restoreDump({ docker: whole, kopia: kopiaOver(new FakeRunner([ok])), log: silentLogger() }, step);
  expect(whole.execStdin).toEqual(["CREATE TABLE q(x);\n.backup main /data/app.db\n"]);

  const torn = new FakeDocker({ containers: [FakeDocker.container("db")] });
  const cut = { argv: (a: readonly string[]) => a.includes("show"), stdout: "CREATE TA", exitCode: 1 };
  const d = { docker: torn, kopia: kopiaOver(new FakeRunner([cut])), log: silentLogger() };
  await expect(restoreDump(d, step)).rejects.toThrow();
  expect(torn.execStdin.join("")).not.toContain(".backup");
});

describe("a dump restored into a compose copy (--as)", () => {
  const copyRecipe = recipe({ containers: [{ name: "shop-db-1", service: "db", image: "postgres:16" }] });
  const labelled = (name: string, project: string, running = true) => ({
    id: name,
    name,
    running,
    volumes: [],
    binds: [],
    labels: { "com.docker.compose.project": project, "com.docker.compose.service": "db" },
  });

  test("the target is the dumped container's service under the new project, never a guessed name", () => {
    const points = groupRestorePoints([dump()]);
    const started = planRestore(
      request({ as: "copy", start: true }),
      points,
      emptyState({ recipe: copyRecipe, containers: running }),
    );
    expect(started.refusals).toEqual([]);
    expect(started.dumps).toMatchObject([{ container: "", service: { project: "copy", name: "db" } }]);
    expect(started.dumps?.[0]?.undo).toBeUndefined();

    const notStarted = planRestore(request({ as: "copy" }), points, emptyState({ recipe: copyRecipe }));
    expect(notStarted.refusals).toEqual([
      "dump of shop-db-1: service db of project copy is not running; start it (or restore with --start), then restore again",
    ]);

    // The copy already runs (compose named it copy-db-1, on a volume an earlier copy restore made):
    // that container is the target and gets an undo dump.
    const copyDb = { ...labelled("copy-db-1", "copy"), volumes: ["copy_dbdata"] };
    const copyVolume = { mountpoint: "/v/copy_dbdata", labels: { [COPY_OF_LABEL]: "shop" } };
    const up = planRestore(
      request({ as: "copy" }),
      points,
      emptyState({
        recipe: copyRecipe,
        containers: [...running, copyDb],
        volumes: { copy_dbdata: copyVolume },
      }),
    );
    expect(up.refusals).toEqual([]);
    expect(up.dumps?.[0]).toMatchObject({ container: "copy-db-1", service: { project: "copy", name: "db" } });
    expect(up.dumps?.[0]?.undo).toBeDefined();

    // Project "copy" is another's on this host (no volume of a copy of shop): its database is never fed.
    const foreign = planRestore(
      request({ as: "copy" }),
      points,
      emptyState({ recipe: copyRecipe, containers: [...running, labelled("copy-db-1", "copy")] }),
    );
    expect(foreign.refusals).toEqual([
      "dump of shop-db-1: copy-db-1 of compose project copy is not a copy made by kopi-docka (it mounts no volume of one): its database is not replaced; choose another --as name",
    ]);
  });

  test("a recipe without the service is refused at plan time, saying what to do instead", () => {
    const noService = recipe({ containers: [{ name: "shop-db-1", image: "postgres:16" }] });
    const plan = planRestore(
      request({ as: "copy", start: true }),
      groupRestorePoints([dump()]),
      emptyState({ recipe: noService }),
    );
    expect(plan.refusals).toEqual([
      "dump of shop-db-1: the recipe names no compose service for shop-db-1, so the copy's container is unknown; restore in place, or restore the copy and feed the dump by hand",
    ]);
  });

  test("a standalone copy feeds the renamed container: one --start creates, or one a copy of this unit made", () => {
    const standalone = recipe({
      type: "standalone",
      containers: [{ name: "shop-db-1", image: "postgres:16" }],
    });
    const plan = planRestore(
      request({ as: "copy", start: true }),
      groupRestorePoints([dump()]),
      emptyState({ recipe: standalone }),
    );
    expect(plan.dumps).toMatchObject([{ container: "copy_shop-db-1" }]);
    expect(plan.dumps?.[0]?.service).toBeUndefined();
    // copy_shop-db-1 runs here already and is not a copy of shop (another unit's, or forged labels
    // aside, nothing kopi-docka made): its database is never fed. Before: fed without a question.
    const other = {
      id: "x",
      name: "copy_shop-db-1",
      running: true,
      volumes: [],
      binds: [],
      labels: { "com.docker.compose.project": "billing" },
    };
    const refused = planRestore(
      request({ as: "copy" }),
      groupRestorePoints([dump()]),
      emptyState({ recipe: standalone, containers: [...running, other] }),
    );
    expect(refused.refusals).toEqual([
      "dump of shop-db-1: container copy_shop-db-1 exists and is not a copy made by kopi-docka: its database is not replaced; choose another --as name",
    ]);
    const ours = { ...other, labels: { [COPY_OF_LABEL]: "shop" } };
    const again = planRestore(
      request({ as: "copy" }),
      groupRestorePoints([dump()]),
      emptyState({ recipe: standalone, containers: [...running, ours] }),
    );
    expect(again.refusals).toEqual([]);
    expect(again.dumps?.[0]).toMatchObject({ container: "copy_shop-db-1" });
  });

  test("restoreDump finds the copy's container by its project and service labels when it feeds", async () => {
    const runner = new FakeRunner([{ argv: (a) => a.includes("show"), stdout: "SQL" }]);
    const kopia = kopiaOver(runner);
    const db = (id: string, project: string) => ({
      ...FakeDocker.container(id),
      Config: {
        Image: "postgres",
        Labels: { "com.docker.compose.project": project, "com.docker.compose.service": "db" },
      },
    });
    const docker = new FakeDocker({ containers: [db("shop-db-1", "shop"), db("copy-db-1", "copy")] });
    const step = {
      container: "",
      service: { project: "copy", name: "db" },
      from: "shop-db-1",
      snapshotId: "m1",
      object: "kroot/pg_dumpall.sql",
      sizeBytes: 1,
      restore: ["psql"],
    };
    expect(await restoreDump({ docker, kopia, log: silentLogger() }, step)).toBe("copy-db-1");
    expect(docker.execStdin).toEqual(["SQL"]);
    expect(docker.calls).toContain("exec copy-db-1 psql");
    const none = new FakeDocker({ containers: [db("shop-db-1", "shop")] });
    await expect(restoreDump({ docker: none, kopia, log: silentLogger() }, step)).rejects.toThrow(
      "no container of service db of project copy is running: the dump cannot be fed back",
    );
  });
});

import { describe, expect, test } from "bun:test";
import { dumpSource } from "../../../../src/core/backup/dump.ts";
import { executeBackup } from "../../../../src/core/backup/execute.ts";
import { planBackup } from "../../../../src/core/backup/plan.ts";
import type { SourcePlan } from "../../../../src/core/backup/plan-model.ts";
import { sourceKey } from "../../../../src/core/backup/sources.ts";
import type { Unit } from "../../../../src/core/discovery/model.ts";
import { createKopia } from "../../../../src/core/kopia/kopia.ts";
import type { Logger } from "../../../../src/core/log.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { renderRecord } from "../../../../src/ui/backup-report.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { type Expectation, FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { backupDeps, config, discovery, planOpts, stackUnit } from "./fixtures.ts";

const now = new Date("2025-01-31T23:59:59.000Z");
/** shop, its db dumped: the data volume at PGDATA, and a config file bind that is no data. */
function dumpUnit(): Unit {
  const u = stackUnit();
  const db = u.containers.find((c) => c.name === "shop_db_1");
  if (db)
    db.mounts = [
      {
        type: "volume",
        volumeName: "shop_dbdata",
        source: "/v",
        destination: "/var/lib/postgresql/data",
        readOnly: false,
      },
      {
        type: "bind",
        source: "/srv/shop/pg.conf",
        destination: "/etc/postgresql/postgresql.conf",
        readOnly: true,
      },
    ];
  u.bindMounts.push({
    source: "/srv/shop/pg.conf",
    targets: [{ container: "shop_db_1", destination: "/etc/postgresql/postgresql.conf", readOnly: true }],
    readOnly: true,
    kind: "file",
  });
  return { ...u, mode: "dump" };
}
const dumpConfig = config({ units: { shop: { mode: "dump", dump: "postgres", dump_container: "db" } } });

describe("planBackup, mode dump", () => {
  test("nothing is stopped; the database's volume gives way to its dump, other data is read live", () => {
    const u = planBackup(dumpConfig, discovery(dumpUnit()), now, planOpts).units[0];
    expect(u?.stopOrder).toEqual([]);
    expect(u?.containers.every((c) => c.action === "live")).toBe(true);
    expect(u?.sources.map((s) => `${s.type} ${s.label}`)).toEqual([
      "recipe recipe",
      "networks networks",
      "bind /srv/shop/uploads",
      "bind /srv/shop/pg.conf",
      "dump shop_db_1",
    ]);
    expect(u?.skipped).toContainEqual({
      kind: "volume",
      id: "shop_dbdata",
      reason: "held by the dump of shop_db_1",
    });
    const dump = u?.sources.at(-1);
    expect(dump?.logicalPath).toBe("/kopi-docka/shop/dumps/shop_db_1");
    expect(dump?.tags).toMatchObject({
      type: "dump",
      dump_container: "shop_db_1",
      dump_file: "pg_dumpall.sql",
      dump_preset: "postgres",
      source_count: "5",
    });
    expect(dump?.dump?.argv[0]).toBe("pg_dumpall");
  });

  test("with a dump command of one's own every volume of the container gives way, no bind mount does", () => {
    const own = config({
      units: {
        shop: { mode: "dump", dump_container: "db", dump_command: ["pg_dump"], restore_command: ["psql"] },
      },
    });
    const u = planBackup(own, discovery(dumpUnit()), now, planOpts).units[0];
    expect(u?.sources.map((s) => s.label)).toContain("/srv/shop/pg.conf");
    expect(u?.sources.some((s) => s.type === "volume")).toBe(false);
  });

  test("a unit that cannot be dumped keeps its volume and plans a dump that fails with the reason", () => {
    const u = planBackup(config({ units: { shop: { mode: "dump" } } }), discovery(dumpUnit()), now, planOpts)
      .units[0];
    expect(u?.sources.some((s) => s.type === "volume")).toBe(true);
    expect(u?.sources.find((s) => s.type === "dump")?.dump?.problem).toContain("dump_container");
  });
});

const manifest = (id: string, size: number) =>
  `${JSON.stringify({ id, source: { host: "h", userName: "kopi-docka", path: "/p" }, startTime: "2025-01-01T00:00:00Z", rootEntry: { obj: "kroot", summ: { size, files: 1 } } })}\n`;
const isCreate = (a: readonly string[]) => a.includes("create") && a.includes("--stdin-file");

function setup(kopia: Expectation[], answer: { stdout?: string; stderr?: string; exitCode?: number }) {
  const runner = new FakeRunner(kopia);
  const k = createKopia(runner, {
    configFile: "/x/c",
    cacheDir: "/x/cache",
    logDir: "/x/logs",
    password: () => "pw",
    hostname: "h",
    username: "kopi-docka",
  });
  const docker = new FakeDocker();
  docker.execAnswer = () => answer;
  const warnings: string[] = [];
  const log: Logger = silentLogger();
  log.warn = ((m: string) => warnings.push(m)) as unknown as Logger["warn"];
  const source = planBackup(dumpConfig, discovery(dumpUnit()), now, planOpts).units[0]?.sources.at(
    -1,
  ) as SourcePlan;
  const go = (s: SourcePlan = source) =>
    dumpSource({ docker, kopia: k }, s, { hostname: "h", timestamp: "T", log, unit: "shop" });
  return { runner, docker, warnings, source, go };
}

describe("dumpSource", () => {
  test("streams the dump into kopia --stdin-file under the dump's identity and tags", async () => {
    const t = setup(
      [
        {
          argv: isCreate,
          stdout: manifest("m1", 14),
          check: (o) => expect(o.stdin).toBeInstanceOf(ReadableStream),
        },
      ],
      { stdout: "CREATE TABLE t;" },
    );
    const r = await t.go();
    expect(r).toMatchObject({ status: "ok", snapshotId: "m1", bytes: 14, type: "dump" });
    expect(t.docker.calls).toEqual(["exec shop_db_1 pg_dumpall --clean --if-exists -U postgres"]);
    expect(t.runner.stdins).toEqual(["CREATE TABLE t;"]);
    const argv = t.runner.calls[0]?.argv ?? [];
    expect(argv).toContain("kopi-docka@h:/kopi-docka/shop/dumps/shop_db_1");
    expect(argv).toContain("type:dump");
    expect(argv.slice(argv.indexOf("--stdin-file"), argv.indexOf("--stdin-file") + 2)).toEqual([
      "--stdin-file",
      "pg_dumpall.sql",
    ]);
  });

  test("a dump that exits non-zero: kopia never sees the end of the stream, the unit fails with the dump's stderr", async () => {
    const t = setup([{ argv: isCreate, stdout: manifest("m1", 3) }], {
      stdout: "partial",
      stderr: 'pg_dumpall: error: role "x" does not exist\n',
      exitCode: 1,
    });
    const r = await t.go();
    expect(t.runner.stdins).toEqual([undefined]); // the stream broke off: kopia was cancelled
    expect(r.status).toBe("failed");
    expect(r.reason).toBe(
      'dump in shop_db_1 failed: `pg_dumpall` exited 1: pg_dumpall: error: role "x" does not exist',
    );
    expect(r.snapshotId).toBeUndefined();
  });

  test("kopia failing while the dump still runs: the unit fails with kopia's error, not the dump ended for it", async () => {
    const t = setup(
      [{ argv: isCreate, stdinBytes: 1, exitCode: 1, stderr: "ERROR unable to write pack: no space left\n" }],
      { stdout: "CREATE TABLE t;", stderr: "" },
    );
    t.docker.execStdoutOpen = true; // pg_dumpall still writing when kopia stopped reading
    const r = await t.go();
    expect(r.status).toBe("failed");
    // Before: "dump in shop_db_1 failed: `pg_dumpall` exited SIGTERM: no error message".
    expect(r.reason).toBe("kopia exited 1: ERROR unable to write pack: no space left");
    expect(r.stderrTail).toBe("ERROR unable to write pack: no space left");
  });

  test("a manifest kopia saved of a failed dump is deleted", async () => {
    // A kopia that printed a manifest although its stdin broke off (it raced the cancel).
    const runner = new FakeRunner([
      { argv: isCreate, stdout: manifest("m9", 3) },
      {
        argv: [
          "kopia",
          "--config-file",
          "/x/c",
          "snapshot",
          "delete",
          "m9",
          "--delete",
          "--no-auto-maintenance",
        ],
      },
    ]);
    const real = runner.run.bind(runner);
    runner.run = async (argv, o = {}) =>
      real(argv, o.stdin instanceof ReadableStream ? { ...o, stdin: undefined } : o);
    const k = createKopia(runner, {
      configFile: "/x/c",
      cacheDir: "/c",
      logDir: "/l",
      password: () => "pw",
      hostname: "h",
      username: "kopi-docka",
    });
    const docker = new FakeDocker();
    docker.execAnswer = () => ({ stdout: "abc", exitCode: 2, stderr: "boom" });
    const s = setup([], {}).source;
    const r = await dumpSource({ docker, kopia: k }, s, {
      hostname: "h",
      timestamp: "T",
      log: silentLogger(),
      unit: "shop",
    });
    expect(r).toMatchObject({ status: "failed", stderrTail: "boom" });
    expect(runner.remaining).toBe(0);
  });

  test("an empty dump is never kept; a dump under half the last one is kept with a warning", async () => {
    const empty = setup(
      [
        { argv: isCreate, stdout: manifest("m0", 0) },
        { argv: (a) => a.includes("delete") && a.includes("m0") },
      ],
      { stdout: "" },
    );
    const r = await empty.go();
    expect(r.status).toBe("failed");
    expect(r.reason).toContain("wrote nothing");
    expect(empty.runner.remaining).toBe(0);

    const small = setup([{ argv: isCreate, stdout: manifest("m2", 10) }], { stdout: "0123456789" });
    const ok = await small.go({ ...small.source, lastSnapshotBytes: 1000 });
    expect(ok.status).toBe("ok");
    expect(small.warnings.join("\n")).toContain("under half the last one");
  });

  test("sqlite: a dump that ends in `ROLLBACK; -- due to errors` (a damaged database; sqlite3 exits 0) is never kept", async () => {
    const t = setup([{ argv: isCreate, stdout: manifest("m1", 60) }], {
      stdout:
        "BEGIN TRANSACTION;\nCREATE TABLE t(x);\nINSERT INTO t VALUES(1);\nROLLBACK; -- due to errors\n",
    });
    const r = await t.go({ ...t.source, tags: { ...t.source.tags, dump_preset: "sqlite" } });
    expect(t.runner.stdins).toEqual([undefined]); // kopia never saw a clean end of the stream
    expect(r.status).toBe("failed");
    expect(r.reason).toContain("due to errors");
    expect(r.snapshotId).toBeUndefined();
  });

  test("sqlite: the dump of a file holding no table (a wrong dump_path) is never kept; a small real one is", async () => {
    const t = setup([{ argv: isCreate, stdout: manifest("m1", 47) }], {
      stdout: "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCOMMIT;\n",
    });
    const r = await t.go({ ...t.source, tags: { ...t.source.tags, dump_preset: "sqlite" } });
    expect(t.runner.stdins).toEqual([undefined]); // kopia never saw a clean end of the stream
    expect(r.status).toBe("failed");
    expect(r.reason).toContain("the dump holds no table");

    const small = setup([{ argv: isCreate, stdout: manifest("m2", 60) }], {
      stdout: "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE t(x);\nCOMMIT;\n",
    });
    const ok = await small.go({ ...small.source, tags: { ...small.source.tags, dump_preset: "sqlite" } });
    expect(ok.status).toBe("ok");
  });

  test("a dump that could not be planned fails without running anything", async () => {
    const t = setup([], {});
    const r = await t.go({
      ...t.source,
      dump: { container: "db", argv: [], file: "dump", problem: "why not" },
    });
    expect(r).toMatchObject({ status: "failed", reason: "why not" });
    expect(t.docker.calls).toEqual([]);
  });
});

describe("a dump far smaller than the last one", () => {
  test("its warning is in the unit's result (run summary, history), not only in the log", async () => {
    const dir = tempDir("kd-dump-");
    try {
      const kopia = (sub: string) => (a: readonly string[]) => a[0] === "kopia" && a.includes(sub);
      const runner = new FakeRunner([], [
        { argv: isCreate, stdout: manifest("md", 10) },
        { argv: kopia("snapshot"), stdout: manifest("m1", 5) },
        { argv: (a) => kopia("policy")(a) && a.includes("show"), stdout: "{}" },
        { argv: (a) => kopia("policy")(a) && a.includes("export"), stdout: "{}\n" },
        { argv: (a) => kopia("policy")(a) && a.includes("set") },
        { argv: kopia("maintenance"), stdout: JSON.stringify({ owner: "someone@else" }) },
      ] satisfies Expectation[]);
      const names = ["web", "app", "db"].map((s) => `shop_${s}_1`);
      const docker = new FakeDocker({
        containers: names.map((n) => FakeDocker.container(`id-${n}`, { StartedAt: "t" }, n)),
      });
      docker.execAnswer = () => ({ stdout: "0123456789" });
      const deps = backupDeps({ config: dumpConfig, runner, docker, dir: dir.path });
      const unit = dumpUnit();
      const plan = planBackup(dumpConfig, discovery(unit), now, {
        ...planOpts,
        stagingDir: dir.path,
        scope: "minimal",
        lastSourceBytes: { [sourceKey("shop", "dump", "shop_db_1")]: 1000 },
      });
      const record = await executeBackup(deps, plan, discovery(unit));
      expect(record.units[0]?.sources.find((s) => s.type === "dump")?.status).toBe("ok");
      expect(record.units[0]?.warnings?.join("\n")).toContain("under half the last one");
      expect(renderRecord(record)).toContain("under half the last one");
    } finally {
      dir.remove();
    }
  });
});

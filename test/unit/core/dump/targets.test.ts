import { describe, expect, test } from "bun:test";
import { ConfigSchema } from "../../../../src/config/schema.ts";
import type { Unit } from "../../../../src/core/discovery/model.ts";
import {
  argvProblem,
  dataFileRules,
  dbPathProblem,
  holdsData,
  presetCommands,
} from "../../../../src/core/dump/presets.ts";
import { dumpTargets } from "../../../../src/core/dump/targets.ts";
import { container } from "../backup/fixtures.ts";

const unit = (containers = [container("db")]): Unit => ({
  name: "shop",
  type: "standalone",
  mode: "dump",
  containers,
  volumes: [],
  bindMounts: [],
  networks: [],
  composeFiles: [],
  skipped: [],
});
const cfg = (u: Record<string, unknown> = {}) =>
  ConfigSchema.parse({ units: { shop: { mode: "dump", ...u } } });

describe("dump presets", () => {
  test("each preset is a pair of argv arrays; sqlite needs a clean database path", () => {
    expect(presetCommands("postgres")).toMatchObject({
      dump: ["pg_dumpall", "--clean", "--if-exists", "-U", "postgres"],
      restore: ["psql", "-X", "-q", "-U", "postgres", "-d", "postgres"],
    });
    expect(presetCommands("mysql")).toMatchObject({ restore: ["mysql"] });
    expect(presetCommands("mongo")).toMatchObject({ dump: ["mongodump", "--archive"] });
    expect(presetCommands("sqlite")).toEqual({ problem: expect.stringContaining("dump_path") });
    expect(presetCommands("sqlite", "/data/app.db")).toMatchObject({
      dump: ["sqlite3", "-bail", "-readonly", "/data/app.db", ".dump"],
      restore: ["sqlite3", "-bail"],
      restoreEnd: "\n.timeout 10000\n.backup main /data/app.db\n",
    });
    for (const bad of ["data/app.db", "/data/../etc/x", "/data/a b.db", "/data/x\n.shell rm"])
      expect(dbPathProblem(bad)).toBeDefined();
  });

  test("a command of one's own must be an argv: a program first, no empty or control-character element", () => {
    expect(argvProblem(["pg_dump", "-Fc"])).toBeUndefined();
    expect(argvProblem([])).toBe("is empty");
    expect(argvProblem(["--all"])).toContain("program");
    expect(argvProblem(["a", ""])).toBeDefined();
    expect(argvProblem(["a", "b\nc"])).toBeDefined();
    expect(() => ConfigSchema.parse({ units: { x: { dump_command: [] } } })).toThrow(/empty/);
    expect(() => ConfigSchema.parse({ units: { x: { dump: "oracle" } } })).toThrow();
    expect(() => ConfigSchema.parse({ units: { x: { dump_command: "pg_dumpall -U x" } } })).toThrow();
  });
});

describe("dumpTargets", () => {
  test("the only container of a unit, with the config's preset", () => {
    expect(dumpTargets(unit(), cfg({ dump: "postgres" }))).toEqual([
      {
        container: "db",
        preset: "postgres",
        commands: expect.objectContaining({ dump: expect.arrayContaining(["pg_dumpall"]) }),
      },
    ]);
  });

  test("the containers labelled kopi-docka.dump, with the label's preset; a label never brings a command", () => {
    const u = unit([
      container("app"),
      container("db", { dump: "postgres" }),
      container("x", { dump: "rm -rf /" }),
    ]);
    const [db, x] = dumpTargets(u, cfg());
    expect(db).toMatchObject({ container: "db", preset: "postgres" });
    expect(x?.problem).toContain("is not a preset");
    expect(x?.commands).toBeUndefined();
  });

  test("dump_container picks by name or compose service; a command of one's own needs restore_command", () => {
    const u = unit([
      container("shop-app-1"),
      container("shop-db-1", {
        compose: { project: "shop", service: "db", configFiles: [], dependsOn: [], oneoff: false },
      }),
    ]);
    const own = cfg({
      dump_container: "db",
      dump_command: ["pg_dump", "app"],
      restore_command: ["psql", "app"],
    });
    expect(dumpTargets(u, own)).toEqual([
      {
        container: "shop-db-1",
        commands: { dump: ["pg_dump", "app"], restore: ["psql", "app"], file: "dump" },
      },
    ]);
    expect(dumpTargets(u, cfg({ dump_container: "db", dump_command: ["pg_dump"] }))[0]?.problem).toContain(
      "restore_command",
    );
    expect(dumpTargets(u, cfg({ dump_container: "nope" }))[0]?.problem).toContain("names no container");
  });

  test("what cannot be dumped says why: no container chosen, no command, not running", () => {
    expect(dumpTargets(unit([container("a"), container("b")]), cfg())[0]?.problem).toContain(
      "dump_container",
    );
    expect(dumpTargets(unit(), cfg())[0]?.problem).toContain("no dump command");
    expect(
      dumpTargets(unit([container("db", { running: false, state: "exited" })]), cfg({ dump: "postgres" }))[0]
        ?.problem,
    ).toContain("not running");
  });
});

test("a secret in a command of one's own is refused: it would be on a command line", () => {
  expect(argvProblem(["mysqldump", "--password=hunter2"])).toContain("secret");
  expect(argvProblem(["mysqldump", "--password", "hunter2"])).toContain("secret");
  expect(() =>
    ConfigSchema.parse({ units: { x: { dump_command: ["mysqldump", "--password=hunter2"] } } }),
  ).toThrow(/secret/);
});

test("a mount holds the data directory when it is the directory, inside it or above it", () => {
  const pg = ["/var/lib/postgresql/data"];
  expect(holdsData("/var/lib/postgresql/data", pg)).toBe(true);
  expect(holdsData("/var/lib/postgresql/data/", pg)).toBe(true);
  expect(holdsData("/var/lib/postgresql", pg)).toBe(true);
  expect(holdsData("/var/lib/postgresql/data/pg_wal", pg)).toBe(true);
  expect(holdsData("/var/lib/postgresql-conf", pg)).toBe(false);
  expect(holdsData("/etc/postgresql/postgresql.conf", pg)).toBe(false);
});

test("sqlite's files, not its directory: the mount holding them is read without them", () => {
  const files = ["/data/app.db", "/data/app.db-wal", "/data/app.db-shm", "/data/app.db-journal"];
  expect(presetCommands("sqlite", "/data/app.db")).toMatchObject({ dataDirs: [], dataFiles: files });
  // Before: /data was "held by the dump": the app's attachments and keys beside the database went unsaved.
  expect(dataFileRules("/data", files)).toEqual({
    held: false,
    rules: ["/app.db", "/app.db-wal", "/app.db-shm", "/app.db-journal"],
  });
  expect(dataFileRules("/", files).rules[0]).toBe("/data/app.db");
  expect(dataFileRules("/data/uploads", files)).toEqual({ held: false, rules: [] });
  expect(dataFileRules("/data/app.db", files)).toEqual({ held: true, rules: [] });
  expect(dataFileRules("/dat", files).rules).toEqual([]);
});

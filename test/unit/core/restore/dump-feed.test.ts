import { expect, test } from "bun:test";
import { AppError } from "../../../../src/core/errors.ts";
import { createKopia } from "../../../../src/core/kopia/kopia.ts";
import { type Logger, silentLogger } from "../../../../src/core/log.ts";
import { restoreDump } from "../../../../src/core/restore/dump-feed.ts";
import type { DumpStep } from "../../../../src/core/restore/dumps.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { type Expectation, FakeRunner } from "../../../fakes/fake-runner.ts";

// How a dump feed ends, told from both sides of the pipe: kopia show (the FakeRunner) feeding
// docker exec -i (the FakeDocker), with which of the two stopped first.

const isShow = (a: readonly string[]) => a.includes("show");
const DUMP = "DROP TABLE IF EXISTS t;\nCREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n";

function feed(show: Omit<Expectation, "argv">, step: Partial<DumpStep> = {}) {
  const runner = new FakeRunner([{ argv: isShow, stdout: DUMP, ...show }]);
  const kopia = createKopia(runner, {
    configFile: "/x/c",
    cacheDir: "/c",
    logDir: "/l",
    password: () => "pw",
    hostname: "h",
    username: "u",
  });
  const docker = new FakeDocker({ containers: [FakeDocker.container("db")] });
  const warnings: string[] = [];
  const log: Logger = silentLogger();
  log.warn = ((m: string) => warnings.push(m)) as unknown as Logger["warn"];
  const planned: DumpStep = {
    container: "db",
    from: "db",
    snapshotId: "m1",
    object: "k1/all-databases.sql",
    sizeBytes: DUMP.length,
    restore: ["mariadb"],
    preset: "mariadb",
    ...step,
  };
  const go = () =>
    restoreDump({ docker, kopia, log }, planned).then(
      () => undefined,
      (e: unknown) => e,
    );
  return { docker, runner, warnings, go };
}

const postgres = {
  restore: ["psql", "-X", "-q", "-U", "postgres", "-d", "postgres"],
  preset: "postgres" as const,
};

test("a restore command that stops at its first failed statement: its exit and stderr are the error, not the kopia show ended for it", async () => {
  const f = feed({ stdoutOpen: true });
  f.docker.execStdinBytes = 1; // MariaDB's client reads on to its first failed statement, and exits
  // It prints the failed statement above its error (--print-query-on-error).
  f.docker.execAnswer = () => ({
    exitCode: 1,
    stderr:
      "--------------\nCREATE TABLE `t` (\n  `id` int(11) NOT NULL\n) ENGINE=InnoDB\n--------------\n\n" +
      "ERROR 1050 (42S01) at line 28: Table 't' already exists\n",
  });
  const err = await f.go();
  expect(err).toBeInstanceOf(AppError);
  // Before: "reading the dump m1 failed (kopia exited null): no error message".
  expect(err).toMatchObject({
    code: "restore_failed",
    message:
      "`mariadb` in db exited 1 before it read the whole dump of db: ERROR 1050 (42S01) at line 28: Table 't' already exists",
  });
});

test("psql that stops at a failed \\connect: its error, with the remedy its failed statements call for", async () => {
  const f = feed({ stdoutOpen: true }, postgres);
  f.docker.execStdinBytes = 1;
  f.docker.execAnswer = (_c, argv) =>
    argv.includes("-tAc")
      ? { stdout: "1\n" }
      : {
          exitCode: 2,
          stderr:
            'ERROR:  database "appdb" is being accessed by other users\n' +
            'psql:<stdin>:179: error: connection to server on socket "/run/postgresql/.s.PGSQL.5432" failed: FATAL:  database "appdb" does not exist\n',
        };
  const err = await f.go();
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).message).toStartWith(
    "`psql` in db exited 2 before it read the whole dump of db: ",
  );
  expect((err as AppError).message).toContain('FATAL:  database "appdb" does not exist');
  expect((err as AppError).hint).toContain("stop the containers that use this database");
});

test("kopia that fails on its own is still kopia's failure: the restore command never saw a clean end", async () => {
  const f = feed({ stdout: "DROP TA", exitCode: 1, stderr: "error reading object: BLOB not found\n" });
  const err = await f.go();
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).message).toBe(
    "reading the dump m1 failed (kopia exited 1): error reading object: BLOB not found",
  );
});

test("a restore command that exits 0 before it read the whole dump fails the restore", async () => {
  const f = feed({ stdoutOpen: true }, { restore: ["my-restore"], preset: undefined });
  f.docker.execStdinBytes = 1;
  const err = await f.go();
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).message).toBe(
    "`my-restore` in db exited 0 before it read the whole dump of db: the database is not as it was at the backup (no error message)",
  );
});

test("postgres: psql connects to postgres when it exists, to template1 when it is gone and makes it first", async () => {
  const probe =
    "exec db psql -X -q -U postgres -d template1 -tAc SELECT count(*) FROM pg_catalog.pg_database WHERE datname = 'postgres'";
  const there = feed({}, postgres);
  there.docker.execAnswer = (_c, argv) => (argv.includes("-tAc") ? { stdout: "1\n" } : {});
  expect(await there.go()).toBeUndefined();
  expect(there.docker.calls.slice(1)).toEqual([
    probe,
    "exec -e PGOPTIONS=-c lc_messages=C db psql -X -q -U postgres -d postgres",
  ]);
  expect(there.docker.execStdin[0]).toStartWith("-- kopi-docka: end the other sessions");

  // Dropped by an admin, or by a feed cut short between the dump's DROP and CREATE DATABASE postgres.
  const gone = feed({}, postgres);
  gone.docker.execAnswer = (_c, argv) => (argv.includes("-tAc") ? { stdout: "0\n" } : {});
  expect(await gone.go()).toBeUndefined();
  expect(gone.docker.calls.at(-1)).toBe(
    "exec -e PGOPTIONS=-c lc_messages=C db psql -X -q -U postgres -d template1",
  );
  const stdin = gone.docker.execStdin[0] ?? "";
  expect(stdin).toContain(
    "CREATE DATABASE postgres TEMPLATE template0;\n\\connect postgres\n-- kopi-docka: end",
  );
  expect(stdin).toEndWith(DUMP);
  expect(gone.warnings).toEqual([
    "the database postgres is missing in db: it is made first, the dump re-creates it",
  ]);

  // A probe that cannot tell (template1 gone too): the usual command, whose own error says why.
  const unsure = feed({}, postgres);
  unsure.docker.execAnswer = (_c, argv) =>
    argv.includes("-tAc") ? { exitCode: 2, stderr: 'FATAL:  database "template1" does not exist' } : {};
  expect(await unsure.go()).toBeUndefined();
  expect(unsure.docker.calls.at(-1)).toEndWith("-d postgres");
});

test("postgres: the dump's DROP DATABASE template1 of a template1 already gone is expected; no other missing database is", async () => {
  const said = (stderr: string) => {
    const f = feed({}, postgres);
    f.docker.execAnswer = (_c, argv) => (argv.includes("-tAc") ? { stdout: "1\n" } : { stderr });
    return f.go();
  };
  // pg_dump writes `DROP DATABASE template1;` without IF EXISTS; the CREATE right after makes it.
  expect(await said('psql:<stdin>:77: ERROR:  database "template1" does not exist\n')).toBeUndefined();
  for (const other of ["postgres", "appdb", "template10"]) {
    const err = await said(`psql:<stdin>:9: ERROR:  database "${other}" does not exist\n`);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).message).toContain(`1 statement(s) failed`);
    expect((err as AppError).message).toContain(`database "${other}" does not exist`);
  }
});

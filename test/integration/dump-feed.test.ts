import { afterAll, beforeAll, expect, test } from "bun:test";
import { runCli } from "../helpers/cli.ts";
import { describeReal, run, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { DB_IMAGE, MARIA_IMAGE, requireImages, startPostgres, waitReady } from "./db-helpers.ts";

/**
 * Dump feeds into a database in a state the dump does not expect, against PostgreSQL 15 and MariaDB
 * 10.11: a MariaDB client that stops at its first failed statement, a PostgreSQL without its
 * `postgres` database (dropped, or a feed cut short between the dump's DROP and CREATE of it), and one
 * without template1. Before: the first was reported as "kopia exited null: no error message", the
 * other two failed the restore (exit 1) although the dump could bring them back.
 */
describeReal("a dump fed into a database the dump does not expect", ["docker", "kopia"], () => {
  const env = { KOPI_DOCKA_TEST_SOURCE: "1" };
  const dir = tempDir("kd-dump-feed-");
  const pg = uniqueName("s20f7-feed-pg");
  const pgVolume = `${pg}-v`;
  const maria = uniqueName("s20f7-feed-maria");
  const config = writeTestConfig(dir.path);
  const cli = (...a: string[]) => runCli([...a, "--config", config], { env });
  const psql = async (sql: string, db = "appdb") =>
    (await run(["docker", "exec", pg, "psql", "-X", "-U", "postgres", "-d", db, "-tAc", sql])).stdout.trim();
  const mariadb = async (sql: string) =>
    (await run(["docker", "exec", maria, "mariadb", "-NBe", sql])).stdout.trim().replaceAll("\t", ":");
  const databases = () =>
    psql("SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database", "template1");

  beforeAll(async () => {
    await requireImages(DB_IMAGE, MARIA_IMAGE);
    await startPostgres(pg, pgVolume);
    await run([
      ...["docker", "run", "-d", "--name", maria, "--user", "mysql", "--label", "kopi-docka.mode=dump"],
      ...["--label", "kopi-docka.dump=mariadb", MARIA_IMAGE, "maria-start"],
    ]);
    await waitReady(pg, ["pg_isready", "-U", "postgres"]);
    await waitReady(maria, ["mariadb-admin", "ping"]);
    await psql("CREATE DATABASE appdb", "postgres");
    await psql("CREATE TABLE t (id int primary key, name text); INSERT INTO t VALUES (1, 'one'), (2, 'two')");
    await mariadb("CREATE DATABASE appdb; CREATE TABLE appdb.t (id int primary key, v text)");
    await mariadb("INSERT INTO appdb.t VALUES (1, 'uno'), (2, 'dos')");
    // 8 MB after t in the dump: the client stops long before kopia has written it all.
    await mariadb("CREATE TABLE appdb.u (id int primary key, pad text)");
    await mariadb("INSERT INTO appdb.u SELECT seq, REPEAT('x', 1000) FROM appdb.seq_1_to_8000");
    const r = await cli("backup", "--unit", pg, "--unit", maria);
    expect({ exit: r.exitCode, stderr: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, stderr: "" });
  }, 240_000);

  afterAll(async () => {
    for (const n of [pg, maria]) await run(["docker", "rm", "-f", n], { check: false });
    await run(["docker", "volume", "rm", "-f", pgVolume], { check: false });
    dir.remove();
  }, 60_000);

  test("MariaDB's client stopping at a failed statement: the restore fails with MariaDB's error, not kopia's", async () => {
    // A view where the dump creates table t: its CREATE TABLE fails and the client exits at once.
    await mariadb("RENAME TABLE appdb.t TO appdb.t_old; CREATE VIEW appdb.t AS SELECT * FROM appdb.t_old");
    const r = await cli("restore", "--unit", maria, "--latest", "--yes", "--json");
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/`mariadb` in \S+ exited 1 before it read the whole dump of \S+: ERROR 1050/);
    expect(r.stderr).toContain("Table 't' already exists");
    expect(r.stderr).not.toContain("kopia exited"); // before: "reading the dump … (kopia exited null)"

    // With the view gone, the same point restores.
    await mariadb("DROP VIEW appdb.t; DROP TABLE appdb.t_old");
    const again = await cli("restore", "--unit", maria, "--latest", "--yes");
    expect({ exit: again.exitCode, stderr: again.exitCode ? again.stderr : "" }).toEqual({
      exit: 0,
      stderr: "",
    });
    expect(await mariadb("SELECT id, v FROM appdb.t ORDER BY id")).toBe("1:uno\n2:dos");
  }, 240_000);

  test("postgres without its `postgres` database: psql connects to template1, makes it, and the dump comes back", async () => {
    await psql("DELETE FROM t WHERE id = 1");
    await psql("DROP DATABASE postgres", "template1");
    const r = await cli("restore", "--unit", pg, "--latest", "--yes");
    // Before: exit 1, every restore (its undo point's too) failing as psql -d postgres could not connect.
    expect({ exit: r.exitCode, stderr: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, stderr: "" });
    expect(r.stderr).toContain("the database postgres is missing");
    expect(await databases()).toBe("appdb,postgres,template0,template1");
    expect(await psql("SELECT id || ':' || name FROM t ORDER BY id")).toBe("1:one\n2:two");
    expect(await psql("SELECT datistemplate FROM pg_database WHERE datname = 'template1'", "postgres")).toBe(
      "t",
    );
  }, 240_000);

  test("postgres without template1: the dump's DROP DATABASE template1 failing is expected, the CREATE after it brings it back", async () => {
    // Whatever the test before left: a postgres database to work in.
    if ((await psql("SELECT count(*) FROM pg_database WHERE datname = 'postgres'", "template1")) === "0")
      await psql("CREATE DATABASE postgres TEMPLATE template0", "template1");
    await psql("DELETE FROM t WHERE id = 2");
    await psql("UPDATE pg_database SET datistemplate = false WHERE datname = 'template1'", "postgres");
    await psql("DROP DATABASE template1", "postgres");
    const r = await cli("restore", "--unit", pg, "--latest", "--yes");
    // Before: exit 1, "1 statement(s) failed … (database "template1" does not exist)".
    expect({ exit: r.exitCode, stderr: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, stderr: "" });
    expect(await databases()).toBe("appdb,postgres,template0,template1");
    expect(await psql("SELECT datistemplate FROM pg_database WHERE datname = 'template1'", "postgres")).toBe(
      "t",
    );
    expect(await psql("SELECT id || ':' || name FROM t ORDER BY id")).toBe("1:one\n2:two");
  }, 240_000);
});

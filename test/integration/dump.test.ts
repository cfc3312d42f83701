import { afterAll, beforeAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { groupRestorePoints } from "../../src/core/restore/points.ts";
import { runCli } from "../helpers/cli.ts";
import { describeReal, run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { coreDeps } from "./backup-helpers.ts";
import { DB_IMAGE, MARIA_IMAGE, requireImages, startPostgres, waitReady } from "./db-helpers.ts";

// mode dump against real databases: PostgreSQL 15, MariaDB 10.11 and sqlite3 from Debian, in the images
// scripts/test-env.d/dump.sh builds locally. The dump streams from `docker exec` into kopia while
// the databases run (no stop, kill or die event); a restore feeds it back through the preset's
// restore command and the rows are queried back inside the container. A failing dump (a wrong
// database user) and an empty one fail the unit with the cause and leave no restore point.
const env = { KOPI_DOCKA_TEST_SOURCE: "1" };

describeReal(
  "mode dump: postgres, mariadb and sqlite, backed up without a stop and restored",
  ["docker", "kopia"],
  () => {
    const dir = tempDir("kd-dump-");
    const pg = uniqueName("kdt-dump-pg");
    const lite = uniqueName("kdt-dump-lite");
    const maria = uniqueName("kdt-dump-maria");
    const pgVolume = `${pg}-v`;
    const good = writeTestConfig(
      dir.path,
      `[units.${lite}]\nmode = "dump"\ndump = "sqlite"\ndump_path = "/data/app.db"\n`,
    );
    const cli = (config: string, ...a: string[]) => runCli([...a, "--config", config], { env });
    const psql = async (sql: string, db = "appdb") =>
      (await run(["docker", "exec", pg, "psql", "-U", "postgres", "-d", db, "-tAXc", sql])).stdout.trim();
    const mariadb = async (sql: string) =>
      (await run(["docker", "exec", maria, "mariadb", "-NBe", sql])).stdout.trim().replaceAll("\t", ":");
    /** Sessions other than this query's connected to appdb. */
    const sessions = () =>
      psql(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = 'appdb' AND pid <> pg_backend_pid()",
        "postgres",
      );
    /** MariaDB sessions in the test's SLEEP. */
    const sleepers = () =>
      mariadb("SELECT count(*) FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP%'");
    const sqlite = async (sql: string) =>
      (await run(["docker", "exec", lite, "sqlite3", "/data/app.db", sql])).stdout.trim();
    const dumpManifests = async () => {
      const all = await coreDeps(good).kopia.snapshotList();
      return all.filter((m) => m.tags?.["tag:type"] === "dump").map((m) => m.id);
    };
    /** Actions docker reported for the two containers between `since` and now. */
    const events = async (since: string) => {
      const r = await run([
        ...["docker", "events", "--since", since, "--until", String(Math.ceil(Date.now() / 1000) + 1)],
        ...["--filter", `container=${pg}`, "--filter", `container=${lite}`, "--filter", `container=${maria}`],
        ...["--format", "{{.Action}}"],
      ]);
      return r.stdout.split("\n").filter(Boolean);
    };

    beforeAll(async () => {
      await requireImages(DB_IMAGE, MARIA_IMAGE);
      await startPostgres(pg, pgVolume);
      await run([
        ...["docker", "run", "-d", "--name", lite, DB_IMAGE],
        ...["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"],
      ]);
      await run([
        ...["docker", "run", "-d", "--name", maria, "--user", "mysql", "--label", "kopi-docka.mode=dump"],
        ...["--label", "kopi-docka.dump=mariadb", MARIA_IMAGE, "maria-start"],
      ]);
      await waitReady(pg, ["pg_isready", "-U", "postgres"]);
      await waitReady(maria, ["mariadb-admin", "ping"]);
      await mariadb("CREATE DATABASE appdb; CREATE TABLE appdb.t (id int primary key, v text)");
      await mariadb("INSERT INTO appdb.t VALUES (1, 'uno'), (2, 'dos')");
      await psql("CREATE DATABASE appdb", "postgres");
      await psql(
        "CREATE TABLE t (id int primary key, name text); INSERT INTO t VALUES (1, 'one'), (2, 'two')",
      );
      await sqlite(
        "CREATE TABLE q (id integer primary key, v text); INSERT INTO q VALUES (1, 'alpha'), (2, 'beta')",
      );
    }, 120_000);

    afterAll(async () => {
      for (const n of [pg, lite, maria]) await run(["docker", "rm", "-f", n], { check: false });
      await run(["docker", "volume", "rm", "-f", pgVolume], { check: false });
      dir.remove();
    }, 60_000);

    test("backup dumps the three databases while they run: no stop, kill or die; the data volume is left to the dump", async () => {
      const since = String(Math.floor(Date.now() / 1000));
      const r = await cli(good, "backup", "--unit", pg, "--unit", lite, "--unit", maria, "--json");
      expect(r.stderr).not.toMatch(/\berror\b/i); // not the policy flag --ignore-file-errors=false
      expect(r.exitCode).toBe(0);
      const record = JSON.parse(r.stdout);
      for (const name of [pg, lite, maria]) {
        const unit = record.units.find((u: { name: string }) => u.name === name);
        expect(unit.status).toBe("ok");
        expect(unit.stopped).toEqual([]);
        const dump = unit.sources.find((s: { type: string }) => s.type === "dump");
        expect(dump).toMatchObject({ status: "ok", label: name });
        expect(dump.bytes).toBeGreaterThan(100);
        expect(unit.sources.some((s: { type: string }) => s.type === "volume")).toBe(false);
      }
      const actions = await events(since);
      expect(actions.filter((a) => /^(stop|kill|die|pause)/.test(a))).toEqual([]);
      expect(actions.some((a) => a.startsWith("exec_start"))).toBe(true);
      const points = groupRestorePoints(await coreDeps(good).kopia.snapshotList()).points;
      const point = points.find((p) => p.unit === pg);
      expect(point?.complete).toBe(true);
      expect(point?.dumps?.map((d) => d.container)).toEqual([pg]);
    }, 240_000);

    test("restore feeds each dump back: the rows changed since are as they were at the backup", async () => {
      await psql("DROP TABLE t");
      await psql("CREATE TABLE t (id int primary key, name text); INSERT INTO t VALUES (9, 'nine')");
      await sqlite("DELETE FROM q WHERE id = 1; INSERT INTO q VALUES (3, 'gamma')");
      await mariadb("DELETE FROM appdb.t WHERE id = 1; INSERT INTO appdb.t VALUES (3, 'tres')");
      const dry = await cli(good, "restore", "--unit", pg, "--latest", "--dry-run", "--json");
      expect(dry.exitCode).toBe(0);
      expect(JSON.parse(dry.stdout).dumps).toMatchObject([
        { container: pg, restore: ["psql", "-X", "-q", "-U", "postgres", "-d", "postgres"] },
      ]);
      expect(await psql("SELECT id FROM t ORDER BY id")).toBe("9"); // a dry run changes nothing

      // An app's session stays connected to appdb, as a connection pool's does: the dump's DROP
      // DATABASE would be refused, and psql would go on and exit 0 with the old data in place.
      await run([
        "docker",
        "exec",
        "-d",
        pg,
        "psql",
        "-X",
        "-U",
        "postgres",
        "-d",
        "appdb",
        "-c",
        "SELECT pg_sleep(600)",
      ]);
      for (let i = 0; i < 50 && (await sessions()) === "0"; i++) await Bun.sleep(100);
      expect(await sessions()).toBe("1");
      // And one with a MariaDB transaction open on the table the dump drops: that DROP would wait
      // for lock_wait_timeout (a year by default).
      await run([
        ...["docker", "exec", "-d", maria, "mariadb", "-e"],
        "START TRANSACTION; SELECT * FROM appdb.t; SELECT SLEEP(600)",
      ]);
      for (let i = 0; i < 50 && (await sleepers()) === "0"; i++) await Bun.sleep(100);
      expect(await sleepers()).toBe("1");

      // The app's database file, owned by the app's user: the restore writes into it, never a new file.
      await run([
        "docker",
        "exec",
        lite,
        "sh",
        "-c",
        "chown 1000:1000 /data/app.db && chmod 640 /data/app.db",
      ]);
      const file = async () =>
        (await run(["docker", "exec", lite, "stat", "-c", "%i %u:%g %a", "/data/app.db"])).stdout.trim();
      const liteFile = await file();

      const since = String(Math.floor(Date.now() / 1000));
      const undo: string[] = [];
      for (const name of [pg, lite, maria]) {
        const r = await cli(good, "restore", "--unit", name, "--latest", "--yes", "--json");
        expect(r.stderr).not.toMatch(/refused|failed/);
        expect(r.exitCode).toBe(0);
        expect(JSON.parse(r.stdout).dumps).toEqual([name]);
        undo.push(JSON.parse(r.stdout).undoPoint);
      }
      expect(await psql("SELECT id || ':' || name FROM t ORDER BY id")).toBe("1:one\n2:two");
      expect(await sessions()).toBe("0"); // the app's session was ended for the restore
      expect(await sqlite("SELECT id || ':' || v FROM q ORDER BY id")).toBe("1:alpha\n2:beta");
      // Before: `.open --new` deleted it and made a new file owned by the exec user (root, 644).
      expect(await file()).toBe(liteFile);
      expect(await mariadb("SELECT id, v FROM appdb.t ORDER BY id")).toBe("1:uno\n2:dos");
      expect(await sleepers()).toBe("0");
      expect((await events(since)).filter((a) => /^(stop|kill|die)/.test(a))).toEqual([]);

      // Each restore first dumped the database as it was into an undo point: restoring it undoes the restore.
      expect(undo[0]).toMatch(new RegExp(`^${pg}@restore-`));
      const back = await cli(good, "restore", "--unit", pg, "--run", undo[0] ?? "", "--yes");
      expect(back.exitCode).toBe(0);
      expect(await psql("SELECT id || ':' || name FROM t ORDER BY id")).toBe("9:nine");
      const liteBack = await cli(good, "restore", "--unit", lite, "--run", undo[1] ?? "", "--yes");
      expect(liteBack.exitCode).toBe(0);
      expect(await sqlite("SELECT id || ':' || v FROM q ORDER BY id")).toBe("2:beta\n3:gamma");
    }, 240_000);

    test("restore --as of a standalone database onto a name another container holds: refused, that one untouched", async () => {
      const other = `copy_${pg}`;
      await run([
        ...["docker", "run", "-d", "--name", other, "--label", "com.docker.compose.project=billing"],
        ...[TEST_IMAGE, "sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"],
      ]);
      try {
        const since = String(Math.floor(Date.now() / 1000));
        const r = await cli(good, "restore", "--unit", pg, "--latest", "--as", "copy", "--yes");
        expect(r.exitCode).not.toBe(0);
        expect(r.stderr).toContain(`container ${other} exists and is not a copy made by kopi-docka`);
        const touched = await run([
          ...["docker", "events", "--since", since, "--until", String(Math.ceil(Date.now() / 1000) + 1)],
          ...["--filter", `container=${other}`, "--format", "{{.Action}}"],
        ]);
        // Its own start aside (within the same second): no exec, no stop.
        expect(touched.stdout.split("\n").filter((a) => /^(exec|stop|kill|die)/.test(a))).toEqual([]);
      } finally {
        await run(["docker", "rm", "-f", other], { check: false });
      }
    }, 120_000);

    test("a dump psql cannot apply (its database cannot be dropped) fails the restore, though psql exits 0", async () => {
      await psql("INSERT INTO t VALUES (7, 'seven')");
      const before = await psql("SELECT id || ':' || name FROM t ORDER BY id");
      // A template database cannot be dropped: the dump's DROP DATABASE fails, its CREATE TABLE too,
      // and its rows land in the old table beside the rows there: neither the backup nor the old data.
      await psql("ALTER DATABASE appdb IS_TEMPLATE true", "postgres");
      let undo = "";
      try {
        const r = await cli(good, "restore", "--unit", pg, "--latest", "--yes");
        expect(r.exitCode).toBe(1);
        expect(r.stderr).toContain("statement(s) failed: the database is not as it was at the backup");
        expect(r.stderr).toContain("cannot drop a template database");
        undo = /undo point: kopi-docka restore --unit \S+ --run (\S+@restore-\S+)/.exec(r.stderr)?.[1] ?? "";
        expect(undo).not.toBe("");
      } finally {
        await psql("ALTER DATABASE appdb IS_TEMPLATE false", "postgres");
      }
      expect(await psql("SELECT count(*) FROM t WHERE id IN (1, 2)")).toBe("2");
      // The undo point the failed restore named brings the database back as it was before it.
      const back = await cli(good, "restore", "--unit", pg, "--run", undo, "--yes");
      expect(back.exitCode).toBe(0);
      expect(await psql("SELECT id || ':' || name FROM t ORDER BY id")).toBe(before);
    }, 240_000);

    test("a failing dump (a wrong database user, a wrong sqlite path) and an empty one fail the unit with the cause and leave no point", async () => {
      const before = await dumpManifests();
      const pointsBefore = groupRestorePoints(await coreDeps(good).kopia.snapshotList()).points.filter(
        (p) => p.unit === pg,
      ).length;
      const wrongUser = join(dir.path, "wrong-user.toml");
      const base = (await Bun.file(good).text()).replace(/\[units\.[\s\S]*$/, "");
      writeFileSync(
        wrongUser,
        `${base}[units.${pg}]\nmode = "dump"\ndump_command = ["pg_dumpall", "-U", "nosuchuser"]\nrestore_command = ["psql", "-U", "postgres"]\n`,
      );
      const bad = await cli(wrongUser, "backup", "--unit", pg, "--json");
      expect(bad.exitCode).not.toBe(0);
      const unit = JSON.parse(bad.stdout).units[0];
      expect(unit.status).toBe("failed");
      const error = unit.errors.find((e: { phase: string }) => e.phase === "snapshot");
      expect(error.message).toContain("pg_dumpall");
      expect(error.message).toContain('role "nosuchuser" does not exist');

      const empty = join(dir.path, "empty.toml");
      writeFileSync(
        empty,
        `${base}[units.${pg}]\nmode = "dump"\ndump_command = ["true"]\nrestore_command = ["psql", "-U", "postgres"]\n`,
      );
      const none = await cli(empty, "backup", "--unit", pg, "--json");
      expect(none.exitCode).not.toBe(0);
      expect(JSON.stringify(JSON.parse(none.stdout).units[0].errors)).toContain("wrote nothing");

      // sqlite with a wrong dump_path: before, sqlite3 made an empty database there and its 47-byte
      // dump was kept as a good point. Now: no such file fails, and so does a file holding no table.
      await run(["docker", "exec", lite, "touch", "/data/empty.db"]);
      for (const [path, cause] of [
        ["/data/nope.db", "unable to open database"],
        ["/data/empty.db", "the dump holds no table"],
      ] as const) {
        const wrongPath = join(dir.path, "wrong-path.toml");
        writeFileSync(
          wrongPath,
          `${base}[units.${lite}]\nmode = "dump"\ndump = "sqlite"\ndump_path = "${path}"\n`,
        );
        const r = await cli(wrongPath, "backup", "--unit", lite, "--json");
        expect(r.exitCode).not.toBe(0);
        expect(JSON.stringify(JSON.parse(r.stdout).units[0].errors)).toContain(cause);
      }
      expect(
        (await run(["docker", "exec", lite, "test", "-e", "/data/nope.db"], { check: false })).exitCode,
      ).toBe(1);

      expect(await dumpManifests()).toEqual(before);
      const points = groupRestorePoints(await coreDeps(good).kopia.snapshotList()).points.filter(
        (p) => p.unit === pg,
      );
      expect(points.filter((p) => p.complete).length).toBe(pointsBefore);
      expect((await run(["docker", "inspect", "-f", "{{.State.Running}}", pg])).stdout.trim()).toBe("true");
    }, 240_000);

    test("disaster: container and data volume gone; restore --start recreates it, waits for postgres, feeds the dump", async () => {
      await run(["docker", "rm", "-f", pg]);
      await run(["docker", "volume", "rm", pgVolume]);
      const r = await cli(good, "restore", "--unit", pg, "--latest", "--yes", "--start", "--json");
      expect(r.stderr).not.toMatch(/refused|failed/);
      expect(r.exitCode).toBe(0);
      expect(JSON.parse(r.stdout).dumps).toEqual([pg]);
      expect(JSON.parse(r.stdout).undoPoint).toBeUndefined(); // nothing ran to take one of
      expect(await psql("SELECT id || ':' || name FROM t ORDER BY id")).toBe("1:one\n2:two");
    }, 240_000);
  },
);

// sqlite beside the app's other data in one volume (vaultwarden keeps attachments and keys next to its
// database): the volume is read, without the database's files, which its dump stands for.
describeReal("mode dump: sqlite in a volume with the app's other files", ["docker", "kopia"], () => {
  const dir = tempDir("kd-dump-vol-");
  const app = uniqueName("kdt-dump-app");
  const volume = `${app}-v`;
  const config = writeTestConfig(
    dir.path,
    `[units.${app}]\nmode = "dump"\ndump = "sqlite"\ndump_path = "/data/app.db"\n`,
  );
  const cli = (...a: string[]) => runCli([...a, "--config", config], { env });
  const inApp = async (script: string) =>
    (await run(["docker", "exec", app, "sh", "-c", script])).stdout.trim();

  beforeAll(async () => {
    await requireImages(DB_IMAGE);
    await run([
      ...["docker", "run", "-d", "--name", app, "-v", `${volume}:/data`, DB_IMAGE],
      ...["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"],
    ]);
    await inApp("mkdir -p /data/attachments && printf 'key material' > /data/rsa_key.pem");
    await inApp("head -c 70000 /dev/urandom > /data/attachments/a.bin && sha256sum /data/attachments/a.bin");
    await inApp(
      `sqlite3 /data/app.db "CREATE TABLE q (id integer primary key); INSERT INTO q VALUES (1), (2)"`,
    );
  }, 120_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", app], { check: false });
    await run(["docker", "volume", "rm", "-f", volume], { check: false });
    dir.remove();
  }, 60_000);

  test("the attachments and keys are backed up and restored; the database from its dump, never read live", async () => {
    const sum = await inApp("sha256sum /data/attachments/a.bin");
    const r = await cli("backup", "--unit", app, "--json");
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    const unit = JSON.parse(r.stdout).units[0];
    expect(unit.stopped).toEqual([]);
    expect(unit.sources.map((s: { type: string; status: string }) => `${s.type}:${s.status}`).sort()).toEqual(
      ["dump:ok", "recipe:ok", "volume:ok"],
    );
    const snapshot = unit.sources.find((s: { type: string }) => s.type === "volume").snapshotId;
    const listed = await run(
      ["kopia", "--config-file", coreDeps(config).paths.kopiaConfigFile, "ls", "-r", snapshot],
      { env: { KOPIA_PASSWORD: (await Bun.file(join(dir.path, "repository.password")).text()).trim() } },
    );
    const names = listed.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => l.replace(/^[0-9a-z]+\//, "").replace(/\/$/, ""))
      .sort();
    expect(names).toEqual(["attachments", "attachments/a.bin", "rsa_key.pem"]);

    await inApp("rm -rf /data/attachments /data/rsa_key.pem");
    await inApp(`sqlite3 /data/app.db "DELETE FROM q"`);
    const back = await cli("restore", "--unit", app, "--latest", "--yes");
    expect({ exit: back.exitCode, stderr: back.stderr }).toMatchObject({ exit: 0 });
    expect(await inApp("sha256sum /data/attachments/a.bin")).toBe(sum);
    expect(await inApp("cat /data/rsa_key.pem")).toBe("key material");
    expect(await inApp(`sqlite3 /data/app.db "SELECT group_concat(id) FROM q"`)).toBe("1,2");
  }, 240_000);
});

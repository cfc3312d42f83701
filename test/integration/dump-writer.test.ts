import { afterAll, beforeAll, expect, test } from "bun:test";
import { runCli } from "../helpers/cli.ts";
import { describeReal, run, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { DB_IMAGE, MARIA_IMAGE, requireImages, startPostgres, waitReady } from "./db-helpers.ts";

// mode dump under a writer that never pauses: PostgreSQL 15 and MariaDB 10.11 (the images
// scripts/test-env.d/dump.sh builds from Debian's packages) take a stream of transactions, each
// inserting a row, moving an amount between two rows and counting both in a `total` row, while
// `KD_DUMP_RUNS` (20) backups dump each. Every point is then restored and must hold one consistent
// moment of that stream: the ledger sums and counts to its total, and that moment lies between the
// writer's count read before its backup and the count read after it.
const RUNS = Number(process.env.KD_DUMP_RUNS ?? 20);
const env = { KOPI_DOCKA_TEST_SOURCE: "1" };

/** One transaction after another, ~500 a second at most, into `client` until its session is ended. */
const writer = (begin: string, client: string) => `i=0
while :; do
  i=$((i+1)); a=$((i % 7 + 1)); x=$((i % 50 + 1)); y=$((i % 37 + 1))
  echo "${begin}; INSERT INTO ledger(amount) VALUES ($a); UPDATE total SET sum = sum + $a, n = n + 1 WHERE one = 1; UPDATE ledger SET amount = amount + 1 WHERE id = $x; UPDATE ledger SET amount = amount - 1 WHERE id = $y; COMMIT;"
  [ $((i % 5)) -eq 0 ] && sleep 0.01
done | ${client}`;

const SEED = `INSERT INTO ledger(amount) VALUES ${Array(50).fill("(10)").join(", ")}; INSERT INTO total VALUES (1, 500, 50)`;
const CHECK =
  "SELECT (SELECT sum(amount) FROM ledger) = sum AND (SELECT count(*) FROM ledger) = n, n FROM total";

interface Engine {
  name: string;
  start(container: string): Promise<void>;
  ready: string[];
  /** A query in appdb (or `db`): its rows, columns split. */
  query(container: string, sql: string, db?: string): Promise<string[][]>;
  setup: string[];
  writer: string;
  /** Ends the writer's session. */
  endWriter(container: string): Promise<void>;
  /** How the engine prints true. */
  yes: string;
}

const rows = (out: string) =>
  out
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(/[|\t]/));

const ENGINES: Engine[] = [
  {
    name: "postgres",
    start: (c) => startPostgres(c, `${c}-v`),
    ready: ["pg_isready", "-U", "postgres"],
    query: async (c, sql, db = "appdb") =>
      rows((await run(["docker", "exec", c, "psql", "-X", "-U", "postgres", "-d", db, "-tAc", sql])).stdout),
    setup: [
      "CREATE TABLE ledger (id bigserial PRIMARY KEY, amount bigint NOT NULL)",
      "CREATE TABLE total (one int PRIMARY KEY, sum bigint NOT NULL, n bigint NOT NULL)",
      SEED,
    ],
    writer: writer("BEGIN", "psql -X -q -U postgres -d appdb"),
    endWriter: async (c) => {
      await run([
        ...["docker", "exec", c, "psql", "-X", "-U", "postgres", "-d", "postgres", "-c"],
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'appdb' AND pid <> pg_backend_pid()",
      ]);
    },
    yes: "t",
  },
  {
    name: "mariadb",
    start: async (c) => {
      await run([
        ...["docker", "run", "-d", "--name", c, "--user", "mysql", "--label", "kopi-docka.mode=dump"],
        ...["--label", "kopi-docka.dump=mariadb", MARIA_IMAGE, "maria-start"],
      ]);
    },
    ready: ["mariadb-admin", "ping"],
    query: async (c, sql, db = "appdb") =>
      rows((await run(["docker", "exec", c, "mariadb", "-NB", ...(db ? [db] : []), "-e", sql])).stdout),
    setup: [
      "CREATE TABLE ledger (id bigint AUTO_INCREMENT PRIMARY KEY, amount bigint NOT NULL) ENGINE=InnoDB",
      "CREATE TABLE total (one int PRIMARY KEY, sum bigint NOT NULL, n bigint NOT NULL) ENGINE=InnoDB",
      SEED,
    ],
    writer: writer("START TRANSACTION", "mariadb appdb"),
    endWriter: async (c) => {
      const ids = rows(
        (
          await run([
            ...["docker", "exec", c, "mariadb", "-NBe"],
            "SELECT id FROM information_schema.processlist WHERE db = 'appdb' AND id <> CONNECTION_ID()",
          ])
        ).stdout,
      );
      for (const [id] of ids)
        await run(["docker", "exec", c, "mariadb", "-e", `KILL ${id}`], { check: false });
    },
    yes: "1",
  },
];

for (const engine of ENGINES)
  describeReal(
    `mode dump: ${engine.name} written to without a pause, backed up and restored`,
    ["docker", "kopia"],
    () => {
      const dir = tempDir("kd-dump-writer-");
      const db = uniqueName(`kdt-dumpw-${engine.name.slice(0, 5)}`);
      // Every point is kept to be restored (the default keeps the latest 10).
      const config = writeTestConfig(dir.path, `[retention]\nlatest = ${RUNS + 5}\n`);
      const cli = (...a: string[]) => runCli([...a, "--config", config], { env });
      const count = async () => Number((await engine.query(db, "SELECT n FROM total"))[0]?.[0]);

      beforeAll(async () => {
        await requireImages(engine.name === "postgres" ? DB_IMAGE : MARIA_IMAGE);
        await engine.start(db);
        await waitReady(db, engine.ready);
        await engine.query(db, "CREATE DATABASE appdb", engine.name === "postgres" ? "postgres" : "");
        for (const sql of engine.setup) await engine.query(db, sql);
        await run(["docker", "exec", "-d", db, "sh", "-c", engine.writer]);
      }, 120_000);

      afterAll(async () => {
        await run(["docker", "rm", "-f", db], { check: false });
        await run(["docker", "volume", "rm", "-f", `${db}-v`], { check: false });
        dir.remove();
      }, 60_000);

      test(`${RUNS} dumps while it writes, each restored: one consistent moment within its backup`, async () => {
        const points: { backupId: string; before: number; after: number }[] = [];
        for (let i = 0; i < RUNS; i++) {
          const before = await count();
          const r = await cli("backup", "--unit", db, "--json");
          expect(r.exitCode).toBe(0);
          const unit = JSON.parse(r.stdout).units[0];
          expect(unit.status).toBe("ok");
          expect(unit.stopped).toEqual([]);
          points.push({ backupId: unit.backupId, before, after: await count() });
        }
        // The writer really wrote during the backups, not only between them.
        expect(points.filter((p) => p.after > p.before).length).toBe(RUNS);
        // Every restore below starts from a database nobody writes to.
        await engine.endWriter(db);
        for (const p of points) {
          const r = await cli("restore", "--unit", db, "--run", p.backupId, "--yes");
          expect({ exit: r.exitCode, stderr: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, stderr: "" });
          const [consistent, n] = (await engine.query(db, CHECK))[0] ?? [];
          expect({ backup: p.backupId, consistent }).toEqual({ backup: p.backupId, consistent: engine.yes });
          expect(Number(n)).toBeGreaterThanOrEqual(p.before);
          expect(Number(n)).toBeLessThanOrEqual(p.after);
        }
        console.log(
          `${engine.name} dump under a writer: ${RUNS} points restored, transactions during each backup: ${points.map((p) => p.after - p.before).join(" ")}`,
        );
      }, 900_000);
    },
  );

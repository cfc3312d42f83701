import { afterAll, beforeAll, expect, test } from "bun:test";
import { runCli } from "../helpers/cli.ts";
import { describeReal, run, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { DB_IMAGE, requireImages, startPostgres, waitReady } from "./db-helpers.ts";

// mode dump under a writer that never pauses: PostgreSQL 15 (the image scripts/test-env.d/dump.sh
// builds from Debian's packages) takes a stream of transactions, each inserting a row, moving an
// amount between two rows and counting both in a `total` row, while `KD_DUMP_RUNS` (20) backups
// dump it. Each point is then restored and must hold one consistent moment of that stream: the
// ledger sums and counts to its total, and that moment lies between the writer's count read
// before its backup and the count read after it.
const RUNS = Number(process.env.KD_DUMP_RUNS ?? 20);
const env = { KOPI_DOCKA_TEST_SOURCE: "1" };

/** One transaction after another, ~500 a second at most, until its session is ended. */
const WRITER = `i=0
while :; do
  i=$((i+1)); a=$((i % 7 + 1)); x=$((i % 50 + 1)); y=$((i % 37 + 1))
  echo "BEGIN; INSERT INTO ledger(amount) VALUES ($a); UPDATE total SET sum = sum + $a, n = n + 1; UPDATE ledger SET amount = amount + 1 WHERE id = $x; UPDATE ledger SET amount = amount - 1 WHERE id = $y; COMMIT;"
  [ $((i % 5)) -eq 0 ] && sleep 0.01
done | psql -X -q -U postgres -d appdb`;

describeReal(
  "mode dump: a database written to without a pause, backed up and restored",
  ["docker", "kopia"],
  () => {
    const dir = tempDir("kd-dump-writer-");
    const pg = uniqueName("kdt-dumpw-pg");
    const config = writeTestConfig(dir.path);
    const cli = (...a: string[]) => runCli([...a, "--config", config], { env });
    const psql = async (sql: string, db = "appdb") =>
      (
        await run(["docker", "exec", pg, "psql", "-X", "-U", "postgres", "-d", db, "-tAc", sql])
      ).stdout.trim();
    const count = async () => Number(await psql("SELECT n FROM total"));

    beforeAll(async () => {
      await requireImages(DB_IMAGE);
      await startPostgres(pg, `${pg}-v`);
      await waitReady(pg, ["pg_isready", "-U", "postgres"]);
      await psql("CREATE DATABASE appdb", "postgres");
      await psql(
        "CREATE TABLE ledger (id bigserial PRIMARY KEY, amount bigint NOT NULL); " +
          "CREATE TABLE total (one int PRIMARY KEY, sum bigint NOT NULL, n bigint NOT NULL); " +
          "INSERT INTO ledger(amount) SELECT 10 FROM generate_series(1, 50); INSERT INTO total VALUES (1, 500, 50)",
      );
      await run(["docker", "exec", "-d", pg, "sh", "-c", WRITER]);
    }, 120_000);

    afterAll(async () => {
      await run(["docker", "rm", "-f", pg], { check: false });
      await run(["docker", "volume", "rm", "-f", `${pg}-v`], { check: false });
      dir.remove();
    }, 60_000);

    test(`${RUNS} dumps while it writes, each restored: one consistent moment within its backup`, async () => {
      const points: { backupId: string; before: number; after: number }[] = [];
      for (let i = 0; i < RUNS; i++) {
        const before = await count();
        const r = await cli("backup", "--unit", pg, "--json");
        expect(r.exitCode).toBe(0);
        const unit = JSON.parse(r.stdout).units[0];
        expect(unit.status).toBe("ok");
        expect(unit.stopped).toEqual([]);
        points.push({ backupId: unit.backupId, before, after: await count() });
      }
      // The writer really wrote during the backups, not only between them.
      expect(points.filter((p) => p.after > p.before).length).toBe(RUNS);
      // Its session is ended; every restore below starts from a database nobody writes to.
      await psql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'appdb' AND pid <> pg_backend_pid()",
      );
      for (const p of points) {
        const r = await cli("restore", "--unit", pg, "--run", p.backupId, "--yes");
        expect(r.exitCode).toBe(0);
        const [consistent, n] = (
          await psql(
            "SELECT (SELECT sum(amount) FROM ledger) = sum AND (SELECT count(*) FROM ledger) = n, n FROM total",
          )
        ).split("|");
        expect({ backup: p.backupId, consistent }).toEqual({ backup: p.backupId, consistent: "t" });
        expect(Number(n)).toBeGreaterThanOrEqual(p.before);
        expect(Number(n)).toBeLessThanOrEqual(p.after);
      }
      console.log(
        `dump under a writer: ${RUNS} points restored, transactions during each backup: ${points.map((p) => p.after - p.before).join(" ")}`,
      );
    }, 900_000);
  },
);

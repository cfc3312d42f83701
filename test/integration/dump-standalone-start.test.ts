import { afterAll, beforeAll, expect, test } from "bun:test";
import { runCli } from "../helpers/cli.ts";
import { describeReal, run, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { DB_IMAGE, requireImages } from "./db-helpers.ts";

/**
 * A standalone database in mode dump, stopped when `restore --start` runs: it exists, so `--start` does
 * not recreate it, yet the plan counts on it running for its feed (it was started for its undo dump too).
 * Before, the restore replaced its volume, then failed: "not running: the dump cannot be fed back".
 */
describeReal("restore --start of a stopped standalone database in mode dump", ["docker", "kopia"], () => {
  const env = { KOPI_DOCKA_TEST_SOURCE: "1" };
  const dir = tempDir("kd-dump-sa-");
  const db = uniqueName("kdt-dump-sa");
  const volume = `${db}-v`;
  const config = writeTestConfig(
    dir.path,
    `[units.${db}]\nmode = "dump"\ndump = "sqlite"\ndump_path = "/data/app.db"\n`,
  );
  const cli = (...a: string[]) => runCli([...a, "--config", config], { env });
  const sqlite = async (sql: string) =>
    (await run(["docker", "exec", db, "sqlite3", "/data/app.db", sql])).stdout.trim();

  beforeAll(async () => {
    await requireImages(DB_IMAGE);
    await run([
      ...["docker", "run", "-d", "--name", db, "-v", `${volume}:/data`, DB_IMAGE],
      ...["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"],
    ]);
    await sqlite("CREATE TABLE q (id integer primary key, v text); INSERT INTO q VALUES (1, 'alpha')");
    const r = await cli("backup", "--unit", db);
    expect({ exit: r.exitCode, stderr: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, stderr: "" });
  }, 240_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", db], { check: false });
    await run(["docker", "volume", "rm", "-f", volume], { check: false });
    dir.remove();
  }, 60_000);

  test("it is started for its feed, fed, and runs; its undo point holds the rows it had", async () => {
    await sqlite("INSERT INTO q VALUES (2, 'after the backup')");
    await run(["docker", "stop", "-t", "1", db]);
    const r = await cli("restore", "--unit", db, "--latest", "--start", "--yes", "--json");
    expect({ exit: r.exitCode, stderr: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, stderr: "" });
    expect((await run(["docker", "inspect", "-f", "{{.State.Running}}", db])).stdout.trim()).toBe("true");
    expect(await sqlite("SELECT group_concat(v) FROM q")).toBe("alpha");

    const undo = JSON.parse(r.stdout).undoPoint as string;
    const back = await cli("restore", "--unit", db, "--run", undo, "--yes");
    expect({ exit: back.exitCode, stderr: back.exitCode ? back.stderr : "" }).toEqual({
      exit: 0,
      stderr: "",
    });
    expect(await sqlite("SELECT group_concat(v) FROM q")).toBe("alpha,after the backup");
  }, 300_000);
});

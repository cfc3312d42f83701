import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { describeCompose, runCompose } from "../helpers/compose.ts";
import { QUICK_STOP, run, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { DB_IMAGE, requireImages } from "./db-helpers.ts";

/**
 * `restore --as` of a compose unit in mode dump: the copy's database is the dumped container's service
 * under the new project, whatever compose named its container (`<as>-db-1` in v2, `<as>_db_1` in v1).
 * The rows are queried back inside the copy's container; the original is left as it is.
 */

describeCompose("restore --as of a compose unit with a sqlite dump", ["docker", "kopia"], (cmp) => {
  const env = { KOPI_DOCKA_TEST_SOURCE: "1", ...cmp.env };
  const dir = tempDir("kd-dumpcopy-");
  const project = uniqueName("kddc").replace(/-/g, "");
  const copy = `${project}copy`;
  const stack = join(dir.path, "app");
  const config = writeTestConfig(
    dir.path,
    `[units.${project}]\nmode = "dump"\ndump = "sqlite"\ndump_path = "/data/app.db"\n${cmp.toml}`,
  );
  const sqlite = async (c: string, sql: string) =>
    (await run(["docker", "exec", c, "sqlite3", "/data/app.db", sql])).stdout.trim();
  const restore = (...extra: string[]) =>
    runCli(["restore", "--config", config, "--unit", project, "--latest", "--as", copy, ...extra], { env });

  beforeAll(async () => {
    await requireImages(DB_IMAGE);
    mkdirSync(stack, { recursive: true });
    writeFileSync(
      join(stack, "docker-compose.yml"),
      `version: "3"\nservices:\n  db:\n    image: ${DB_IMAGE}\n    command: ["sh", "-c", "${QUICK_STOP}"]\n` +
        "    volumes:\n      - data:/data\nvolumes:\n  data:\n",
    );
    await runCompose(cmp, ["-p", project, "-f", join(stack, "docker-compose.yml"), "up", "-d"], {
      cwd: stack,
    });
    await sqlite(
      cmp.container(project, "db"),
      "CREATE TABLE q (id integer primary key, v text); INSERT INTO q VALUES (1, 'alpha'), (2, 'beta')",
    );
    const r = await runCli(["backup", "--config", config, "--unit", project], { env });
    expect(r.exitCode).toBe(0);
  }, 240_000);

  afterAll(async () => {
    for (const p of [project, copy]) {
      await run(["docker", "rm", "-f", cmp.container(p, "db")], { check: false });
      await run(["docker", "volume", "rm", `${p}_data`], { check: false });
      await run(["docker", "network", "rm", `${p}_default`], { check: false });
    }
    dir.remove();
  }, 120_000);

  test("without --start the plan refuses, naming the service of the copy; nothing is changed", async () => {
    const r = await restore("--yes");
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toContain(`service db of project ${copy} is not running`);
    const there = await run(["docker", "inspect", cmp.container(copy, "db")], { check: false });
    expect(there.exitCode).not.toBe(0);
  }, 120_000);

  test("with --start the copy comes up and its database is fed from the dump", async () => {
    const dry = await restore("--start", "--dry-run", "--json");
    expect(dry.exitCode).toBe(0);
    expect(JSON.parse(dry.stdout).dumps).toMatchObject([{ service: { project: copy, name: "db" } }]);

    await sqlite(cmp.container(project, "db"), "DELETE FROM q WHERE id = 1");
    const r = await restore("--start", "--yes", "--json");
    expect(r.stderr).not.toMatch(/refused|failed/);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).dumps).toEqual([cmp.container(copy, "db")]);
    expect(await sqlite(cmp.container(copy, "db"), "SELECT id || ':' || v FROM q ORDER BY id")).toBe(
      "1:alpha\n2:beta",
    );
    expect(await sqlite(cmp.container(project, "db"), "SELECT id FROM q ORDER BY id")).toBe("2");
  }, 240_000);
});

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { describeCompose, runCompose } from "../helpers/compose.ts";
import { feedOf, watchEvents } from "../helpers/docker-events.ts";
import { QUICK_STOP, run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { DB_IMAGE, requireImages } from "./db-helpers.ts";

/**
 * An in-place restore of a compose unit in mode dump: the app (stopped for its own volume) and a
 * worker without volumes (stopped because it is the database's client) start again only once the
 * database has been fed the dump, so neither holds or reconnects to the old data in between; the
 * database itself runs throughout (docker's events give the order).
 */
describeCompose("restore in place of a compose unit in mode dump", ["docker", "kopia", "image"], (cmp) => {
  const env = { KOPI_DOCKA_TEST_SOURCE: "1", ...cmp.env };
  const dir = tempDir("kd-dumporder-");
  const project = uniqueName("kddo").replace(/-/g, "");
  const stack = join(dir.path, "app");
  const app = cmp.container(project, "app");
  const db = cmp.container(project, "db");
  const worker = cmp.container(project, "worker");
  const config = writeTestConfig(
    dir.path,
    `[units.${project}]\nmode = "dump"\ndump = "sqlite"\ndump_path = "/data/app.db"\ndump_container = "db"\n${cmp.toml}`,
  );
  const sqlite = async (sql: string) =>
    (await run(["docker", "exec", db, "sqlite3", "/data/app.db", sql])).stdout.trim();
  const upload = async () => (await run(["docker", "exec", app, "cat", "/uploads/f"])).stdout.trim();

  beforeAll(async () => {
    await requireImages(DB_IMAGE);
    mkdirSync(stack, { recursive: true });
    writeFileSync(
      join(stack, "docker-compose.yml"),
      `version: "3"\nservices:\n` +
        `  app:\n    image: ${TEST_IMAGE}\n    command: ["sh", "-c", "${QUICK_STOP}"]\n    volumes:\n      - uploads:/uploads\n` +
        `  worker:\n    image: ${TEST_IMAGE}\n    command: ["sh", "-c", "${QUICK_STOP}"]\n` +
        `  db:\n    image: ${DB_IMAGE}\n    command: ["sh", "-c", "${QUICK_STOP}"]\n    volumes:\n      - data:/data\n` +
        "volumes:\n  uploads:\n  data:\n",
    );
    await runCompose(cmp, ["-p", project, "-f", join(stack, "docker-compose.yml"), "up", "-d"], {
      cwd: stack,
    });
    await sqlite("CREATE TABLE q (id integer primary key, v text); INSERT INTO q VALUES (1, 'alpha')");
    await run(["docker", "exec", app, "sh", "-c", "echo one > /uploads/f"]);
    const r = await runCli(["backup", "--config", config, "--unit", project], { env });
    expect(r.exitCode).toBe(0);
  }, 240_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", app, worker, db], { check: false });
    await run(["docker", "volume", "rm", `${project}_uploads`, `${project}_data`], { check: false });
    await run(["docker", "network", "rm", `${project}_default`], { check: false });
    dir.remove();
  }, 120_000);

  test("the app's volume and the database come back; the app and the worker start after the dump is fed", async () => {
    await sqlite("DELETE FROM q; INSERT INTO q VALUES (2, 'beta')");
    await run(["docker", "exec", app, "sh", "-c", "echo two > /uploads/f"]);
    const watch = await watchEvents([app, worker, db], db);
    const r = await runCli(
      ["restore", "--config", config, "--unit", project, "--latest", "--yes", "--json"],
      {
        env,
      },
    );
    expect(r.stderr).not.toMatch(/refused|failed/);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).dumps).toEqual([db]);
    expect(await sqlite("SELECT id || ':' || v FROM q")).toBe("1:alpha");
    expect(await upload()).toBe("one");

    const events = await watch.stop();
    // The feed: the restore command's exec (`sqlite3 -bail`, the dump then `.backup`) until its exec_die.
    const feed = feedOf(events, db, /exec_create: sqlite3 -bail$/);
    expect(feed.started).toBeDefined();
    expect(feed.ended).toBeDefined();
    for (const name of [app, worker]) {
      const stopped = events.find((e) => e.name === name && e.action === "stop");
      const started = events.find((e) => e.name === name && e.action === "start");
      expect({ name, stopped: (stopped?.t ?? 2n ** 64n) < (feed.started ?? 0n) }).toEqual({
        name,
        stopped: true,
      });
      expect({ name, started: (started?.t ?? 0n) > (feed.ended ?? 2n ** 64n) }).toEqual({
        name,
        started: true,
      });
    }
    expect(events.filter((e) => e.name === db && /^(stop|kill|die)$/.test(e.action))).toEqual([]);
    const state = await run(["docker", "inspect", "-f", "{{.State.Running}}", app, worker, db]);
    expect(state.stdout.trim().split("\n")).toEqual(["true", "true", "true"]);
  }, 240_000);
});

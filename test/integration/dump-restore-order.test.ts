import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { describeCompose, runCompose } from "../helpers/compose.ts";
import { feedOf, watchEvents } from "../helpers/docker-events.ts";
import { QUICK_STOP, run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { DB_IMAGE, requireImages } from "./db-helpers.ts";

/**
 * A compose unit in mode dump whose database also mounts a config dir (a bind, restored as ever):
 * - in place, the database is stopped for its bind, yet its undo dump is taken first (while it runs,
 *   after its client stopped): restoring the undo point brings back the database as it was;
 * - with `--start` (the app stopped), compose starts the database alone, the dump is fed, and only
 *   then the rest of the project (docker's events give the order).
 */
describeCompose(
  "restore of a dump unit whose database is stopped or started by the restore",
  ["docker", "kopia", "image"],
  (cmp) => {
    const env = { KOPI_DOCKA_TEST_SOURCE: "1", ...cmp.env };
    const dir = tempDir("kd-dumpundo-");
    const project = uniqueName("kddu").replace(/-/g, "");
    const stack = join(dir.path, "app");
    const app = cmp.container(project, "app");
    const db = cmp.container(project, "db");
    const config = writeTestConfig(
      dir.path,
      `[units.${project}]\nmode = "dump"\ndump = "sqlite"\ndump_path = "/data/app.db"\ndump_container = "db"\n${cmp.toml}`,
    );
    const sqlite = async (sql: string) =>
      (await run(["docker", "exec", db, "sqlite3", "/data/app.db", sql])).stdout.trim();
    const conf = async () => (await run(["docker", "exec", db, "cat", "/conf/db.conf"])).stdout.trim();
    const setConf = (v: string) => writeFileSync(join(stack, "conf", "db.conf"), `${v}\n`);
    const restore = (...args: string[]) =>
      runCli(["restore", "--config", config, "--unit", project, "--yes", "--json", ...args], { env });

    beforeAll(async () => {
      await requireImages(DB_IMAGE);
      mkdirSync(join(stack, "conf"), { recursive: true });
      setConf("one");
      writeFileSync(
        join(stack, "docker-compose.yml"),
        `version: "3"\nservices:\n` +
          `  app:\n    image: ${TEST_IMAGE}\n    command: ["sh", "-c", "${QUICK_STOP}"]\n` +
          `  db:\n    image: ${DB_IMAGE}\n    command: ["sh", "-c", "${QUICK_STOP}"]\n    volumes:\n      - data:/data\n      - ./conf:/conf\n` +
          "volumes:\n  data:\n",
      );
      await runCompose(cmp, ["-p", project, "-f", join(stack, "docker-compose.yml"), "up", "-d"], {
        cwd: stack,
      });
      await sqlite("CREATE TABLE q (id integer primary key, v text); INSERT INTO q VALUES (1, 'alpha')");
      const r = await runCli(["backup", "--config", config, "--unit", project], { env });
      expect(r.exitCode).toBe(0);
    }, 240_000);

    afterAll(async () => {
      await run(["docker", "rm", "-f", app, db], { check: false });
      await run(["docker", "volume", "rm", `${project}_data`], { check: false });
      await run(["docker", "network", "rm", `${project}_default`], { check: false });
      dir.remove();
    }, 120_000);

    test("in place, the database stopped for its bind is dumped into the undo point first", async () => {
      await sqlite("DELETE FROM q; INSERT INTO q VALUES (2, 'beta')");
      setConf("two");
      const r = await restore("--latest");
      expect({ exit: r.exitCode, err: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, err: "" });
      expect(r.stderr).not.toContain("no undo point");
      const out = JSON.parse(r.stdout);
      expect(out.dumps).toEqual([db]);
      expect(await sqlite("SELECT id || ':' || v FROM q")).toBe("1:alpha");
      expect(await conf()).toBe("one");
      // The undo point holds what was there: the bind and the database's own dump.
      const back = await restore("--run", out.undoPoint);
      expect({ exit: back.exitCode, err: back.exitCode ? back.stderr : "" }).toEqual({ exit: 0, err: "" });
      expect(await sqlite("SELECT id || ':' || v FROM q")).toBe("2:beta");
      expect(await conf()).toBe("two");
      const state = await run(["docker", "inspect", "-f", "{{.State.Running}}", app, db]);
      expect(state.stdout.trim().split("\n")).toEqual(["true", "true"]);
    }, 240_000);

    test("--start with the app stopped: compose starts the database alone, it is fed, then the app starts", async () => {
      await run(["docker", "stop", "-t", "5", app]);
      const watch = await watchEvents([app, db], db);
      const r = await restore("--latest", "--start");
      expect({ exit: r.exitCode, err: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, err: "" });
      expect(JSON.parse(r.stdout).dumps).toEqual([db]);
      expect(await sqlite("SELECT id || ':' || v FROM q")).toBe("1:alpha");
      const events = await watch.stop();
      const feed = feedOf(events, db, /exec_create: sqlite3 -bail$/);
      const dbStart = events.find((e) => e.name === db && e.action === "start");
      const appStart = events.find((e) => e.name === app && e.action === "start");
      expect(feed.started).toBeDefined();
      expect({
        dbBeforeFeed: (dbStart?.t ?? 2n ** 64n) < (feed.started ?? 0n),
        appAfterFeed: (appStart?.t ?? 0n) > (feed.ended ?? 2n ** 64n),
      }).toEqual({ dbBeforeFeed: true, appAfterFeed: true });
      const state = await run(["docker", "inspect", "-f", "{{.State.Running}}", app, db]);
      expect(state.stdout.trim().split("\n")).toEqual(["true", "true"]);
    }, 240_000);

    test("--start with the database stopped: it is started for its undo dump before anything is replaced, then fed", async () => {
      await sqlite("DELETE FROM q; INSERT INTO q VALUES (4, 'delta')");
      await run(["docker", "stop", "-t", "5", app, db]);
      const r = await restore("--latest", "--start");
      expect({ exit: r.exitCode, err: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, err: "" });
      expect(r.stderr).not.toContain("no undo point");
      const out = JSON.parse(r.stdout);
      expect(out.dumps).toEqual([db]);
      expect(await sqlite("SELECT id || ':' || v FROM q")).toBe("1:alpha");
      // The rows the stopped database held are in the undo point, not lost.
      const back = await restore("--run", out.undoPoint);
      expect({ exit: back.exitCode, err: back.exitCode ? back.stderr : "" }).toEqual({ exit: 0, err: "" });
      expect(await sqlite("SELECT id || ':' || v FROM q")).toBe("4:delta");
      const state = await run(["docker", "inspect", "-f", "{{.State.Running}}", app, db]);
      expect(state.stdout.trim().split("\n")).toEqual(["true", "true"]);
    }, 240_000);

    test("--start with the database stopped and its undo dump failing: nothing overwritten, the database stopped again", async () => {
      await sqlite("DELETE FROM q; INSERT INTO q VALUES (5, 'epsilon')");
      setConf("five");
      await run(["docker", "stop", "-t", "5", app, db]);
      await run(["chattr", "-R", "+i", join(dir.path, "repository")]);
      let r: Awaited<ReturnType<typeof restore>>;
      try {
        r = await restore("--latest", "--start");
      } finally {
        await run(["chattr", "-R", "-i", join(dir.path, "repository")]);
      }
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toContain(`the stopped database in ${db} could not be dumped for the undo point`);
      expect(r.stderr).toContain(`docker rm ${db}`);
      const state = await run(["docker", "inspect", "-f", "{{.State.Running}}", app, db]);
      expect(state.stdout.trim().split("\n")).toEqual(["false", "false"]);
      expect(readFileSync(join(stack, "conf", "db.conf"), "utf8").trim()).toBe("five");
      await run(["docker", "start", db, app]);
      expect(await sqlite("SELECT id || ':' || v FROM q")).toBe("5:epsilon");
    }, 240_000);

    test("an undo point that cannot be written: nothing is overwritten, and what was stopped runs again", async () => {
      await sqlite("DELETE FROM q; INSERT INTO q VALUES (3, 'gamma')");
      setConf("three");
      // Every directory of the repository immutable: kopia reads it, but cannot save the undo point.
      await run(["chattr", "-R", "+i", join(dir.path, "repository")]);
      let r: Awaited<ReturnType<typeof restore>>;
      try {
        r = await restore("--latest");
      } finally {
        await run(["chattr", "-R", "-i", join(dir.path, "repository")]);
      }
      expect(r.exitCode).not.toBe(0);
      // The undo dump is the first write: the app was stopped for it, the database not yet.
      expect(r.stderr).toContain("the undo dump of");
      expect(r.stderr).toContain(`nothing was overwritten: started ${app} again`);
      expect(r.stderr).not.toContain("left stopped");
      const state = await run(["docker", "inspect", "-f", "{{.State.Running}}", app, db]);
      expect(state.stdout.trim().split("\n")).toEqual(["true", "true"]);
      expect(await sqlite("SELECT id || ':' || v FROM q")).toBe("3:gamma");
      expect(await conf()).toBe("three");
    }, 240_000);
  },
);

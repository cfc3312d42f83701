import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runBackup } from "../../src/core/backup/run.ts";
import { snapshotTags } from "../../src/core/kopia/parse.ts";
import { describeCompose } from "../helpers/compose.ts";
import { run, tempDir, uniqueName, volumeMountpoint, writeTestConfig } from "../helpers/env.ts";
import { describeTree } from "../helpers/tree.ts";
import { bareRestore, compose, composeUp, coreDeps, inspectState } from "./backup-helpers.ts";

/** Every file under a directory, concatenated (to search restored content for a secret). */
function allText(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), "utf8"))
    .join("\n");
}

describeCompose("backup: a compose stack, cold, end to end", ["docker", "kopia", "image"], (cmp) => {
  const dir = tempDir("kd-bk-stack-");
  const project = uniqueName("kdbk").replace(/-/g, "");
  const secret = `pw-${crypto.randomUUID()}`;
  const argv: string[][] = [];
  const configFile = writeTestConfig(
    join(dir.path, "kd"),
    "[backup]\nstop_timeout = 10\nstart_timeout = 30\n",
  );
  const deps = coreDeps(configFile, argv);
  let record: Awaited<ReturnType<typeof runBackup>>;
  let before: Record<string, { StartedAt: string }> = {};
  const [db, app] = [cmp.container(project, "db"), cmp.container(project, "app")];

  beforeAll(async () => {
    await composeUp(join(dir.path, "proj"), project, secret, cmp);
    await Bun.sleep(1500); // the writer is busy for a while before the backup stops it
    before = { db: await inspectState(db), app: await inspectState(app) };
    record = await runBackup(deps, { units: [project] });
  }, 180_000);

  afterAll(async () => {
    await compose(join(dir.path, "proj"), project, ["down", "-v", "-t", "1"], {}, cmp).catch(() => {});
    dir.remove();
  }, 60_000);

  test("the unit is OK; both containers were stopped and run again, db started before app", async () => {
    expect(record.status).toBe("ok");
    expect(record.units[0]?.stopped.sort()).toEqual([app, db]);
    const dbState = await inspectState(db);
    const appState = await inspectState(app);
    expect(dbState.Running && appState.Running).toBe(true);
    expect(dbState.StartedAt).not.toBe(before.db?.StartedAt);
    expect(new Date(dbState.StartedAt).getTime()).toBeLessThan(new Date(appState.StartedAt).getTime());
    expect(record.units[0]?.coldWindowMs).toBeGreaterThan(0);
    expect(record.units[0]?.frozenWindowMs).toBeLessThanOrEqual(record.units[0]?.coldWindowMs ?? 0);
  });

  test("every snapshot is in the repository with the full tag set", async () => {
    const mine = (await deps.kopia.snapshotList()).filter((m) => snapshotTags(m).run_id === record.runId);
    const tags = mine.map(snapshotTags);
    expect(tags.map((t) => t.type).sort()).toEqual(["bind", "bind", "networks", "recipe", "volume"]);
    const u = record.units[0];
    for (const t of tags) {
      expect(t).toMatchObject({
        unit: project,
        backup_id: u?.backupId,
        run_id: record.runId,
        backup_scope: "standard",
        timestamp: u?.timestamp,
        backup_format: "direct",
        kopi_docka_version: "0.0.0-test",
      });
    }
    expect(tags.find((t) => t.type === "volume")?.volume).toBe(`${project}_dbdata`);
    expect(tags.find((t) => t.type === "bind")).toMatchObject({
      bind_destination: "/appdata",
      read_only: "false",
    });
    expect(tags.find((t) => t.type === "networks")?.network_count).toBe("1");
    expect(mine.every((m) => m.source.host === "kd-test-host" && m.source.userName === "kopi-docka")).toBe(
      true,
    );
  });

  test("bare kopia restore of the volume and the bind gives the stop-time bytes, modes, owners, mtimes, links", async () => {
    const mine = (await deps.kopia.snapshotList()).filter((m) => snapshotTags(m).run_id === record.runId);
    const vol = mine.find((m) => snapshotTags(m).type === "volume");
    const bind = mine.find((m) => snapshotTags(m).bind_destination === "/appdata");
    const mountpoint = await volumeMountpoint(`${project}_dbdata`);
    await bareRestore(deps, vol?.id ?? "", join(dir.path, "r-vol"));
    await bareRestore(deps, bind?.id ?? "", join(dir.path, "r-bind"));
    // the restarted writer found its "frozen" flag and wrote nothing: the volume is still at stop time
    expect(describeTree(join(dir.path, "r-vol"))).toEqual(describeTree(mountpoint));
    expect(describeTree(join(dir.path, "r-bind"))).toEqual(describeTree(join(dir.path, "proj", "appdata")));
    const final = readFileSync(join(dir.path, "r-vol", "final.txt"), "utf8");
    const state = readFileSync(join(dir.path, "r-vol", "state.txt"), "utf8").trim();
    expect(final.trim()).toBe(`final ${state}`); // written by the SIGTERM handler: the copy is cold
    expect(Number(state)).toBeGreaterThan(3);
    expect((await run(["sha256sum", "-c", "sums.sha256"], { cwd: join(dir.path, "r-vol") })).exitCode).toBe(
      0,
    );
  });

  test("the secret env value is in no recipe file, argv or run record; the key is", async () => {
    const recipe = (await deps.kopia.snapshotList()).find(
      (m) => snapshotTags(m).run_id === record.runId && snapshotTags(m).type === "recipe",
    );
    await bareRestore(deps, recipe?.id ?? "", join(dir.path, "r-recipe"));
    const text = allText(join(dir.path, "r-recipe"));
    expect(text).toContain("DB_PASSWORD=***REDACTED***");
    expect(text).not.toContain(secret);
    expect(text).toContain("writer"); // compose file and inspect data are there
    // the env_file came along as a project file, next to the compose file
    expect(readFileSync(join(dir.path, "r-recipe", "project", "app.env"), "utf8")).toBe("APP_MODE=cold\n");
    for (const a of argv) expect(a.join(" ")).not.toContain(secret);
    expect(allText(deps.paths.runsDir)).not.toContain(secret);
    expect(allText(deps.paths.stagingDir)).not.toContain(secret);
  });
});

import { afterEach, expect, test } from "bun:test";
import { executeBackup } from "../../../../src/core/backup/execute.ts";
import { planBackup } from "../../../../src/core/backup/plan.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { backupDeps, config, discovery, kopiaAnswers, planOpts, stackUnit } from "./fixtures.ts";

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const BEFORE = "2025-01-01T00:00:00.000000001Z";

/** Unit `shop` on a fake host whose db container the admin paused; `pauseFails`: docker refuses. */
async function backUp(pauseFails = false) {
  const dir = tempDir("kd-paused-");
  dirs.push(dir);
  const docker = new FakeDocker({
    containers: ["web", "app", "db"].map((s) =>
      FakeDocker.container(
        `id-shop_${s}_1`,
        { StartedAt: BEFORE, ...(s === "db" ? { Paused: true, Status: "paused" } : {}) },
        `shop_${s}_1`,
      ),
    ),
    before: (call) => {
      if (pauseFails && call.startsWith("pause ")) throw new Error("cannot pause: cgroup freezer missing");
    },
  });
  const deps = backupDeps({
    config: config(),
    runner: new FakeRunner([], kopiaAnswers()),
    docker,
    dir: dir.path,
  });
  const warnings: string[] = [];
  deps.log.warn = Object.assign((m: string) => void warnings.push(m), { raw: deps.log.warn.raw });
  const plan = planBackup(deps.config, discovery(stackUnit()), new Date(), {
    ...planOpts,
    stagingDir: dir.path,
    scope: "minimal",
  });
  const record = await executeBackup(deps, plan, discovery(stackUnit()));
  return { record, docker, warnings };
}

test("a container the admin paused is stopped cold, started, and paused again once it runs", async () => {
  const { record, docker } = await backUp();
  expect(record.status).toBe("ok");
  const calls = docker.calls.filter((c) => !c.startsWith("state "));
  expect(calls.slice(calls.indexOf("start id-shop_db_1"))).toEqual([
    "start id-shop_db_1",
    "wait id-shop_db_1",
    "pause id-shop_db_1",
    "start id-shop_app_1",
    "wait id-shop_app_1",
    "start id-shop_web_1",
    "wait id-shop_web_1",
    // Paused, it still runs as the incarnation started: the look after the starts finds it fine.
    "inspect id-shop_db_1 id-shop_app_1 id-shop_web_1",
  ]);
  expect(docker.containers.get("id-shop_db_1")?.State.Paused).toBe(true);
  expect(docker.containers.get("id-shop_web_1")?.State.Paused).not.toBe(true);
});

test("a pause docker refuses leaves it running, said, and the unit ok", async () => {
  const { record, docker, warnings } = await backUp(true);
  expect(record.status).toBe("ok");
  expect(docker.containers.get("id-shop_db_1")?.State.Running).toBe(true);
  expect(warnings.join("\n")).toContain("shop_db_1 was paused before the backup and runs now");
  expect(warnings.join("\n")).toContain("docker pause shop_db_1");
});

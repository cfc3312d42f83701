import { afterEach, describe, expect, test } from "bun:test";
import { runMessage } from "../../../../src/core/alerts/message.ts";
import { executeBackup } from "../../../../src/core/backup/execute.ts";
import { planBackup } from "../../../../src/core/backup/plan.ts";
import { ranWhileStopped } from "../../../../src/core/backup/ran-meanwhile.ts";
import { outcomeError } from "../../../../src/core/backup/result.ts";
import type { Runner } from "../../../../src/core/process/runner.ts";
import { exitCodeFor } from "../../../../src/exit-codes.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { backupDeps, config, discovery, kopiaAnswers, planOpts, stackUnit } from "./fixtures.ts";

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const BEFORE = "2025-01-01T00:00:00.000000001Z";
const at = (ms: number) => new Date(ms).toISOString();

describe("ranWhileStopped: the state after our start says whether the container ran in the window", () => {
  const c = { startedAt: BEFORE, stopDoneAt: 1_000_000, startIssuedAt: 1_000_500 };
  test.each([
    [
      "our own start (StartedAt after it was issued)",
      { StartedAt: at(1_000_520), FinishedAt: at(999_990) },
      false,
    ],
    [
      "started by someone else after our stop, still running",
      { StartedAt: at(1_000_100), FinishedAt: at(999_990) },
      true,
    ],
    [
      "started elsewhere between docker's stop and our CLI's return",
      { StartedAt: at(999_995), FinishedAt: at(999_990) },
      true,
    ],
    [
      "started and stopped again in between: FinishedAt after our stop",
      { StartedAt: at(1_000_520), FinishedAt: at(1_000_300) },
      true,
    ],
    [
      "crashed after our start: FinishedAt after it was issued",
      { StartedAt: at(1_000_520), FinishedAt: at(1_000_510) },
      false,
    ],
    [
      "never started again (StartedAt as before the stop)",
      { StartedAt: BEFORE, FinishedAt: at(999_990) },
      false,
    ],
  ])("%s", (_, state, ran) => {
    expect(ranWhileStopped(c, state) !== undefined).toBe(ran);
  });

  test("nothing is told when our stop failed or our start was never issued", () => {
    const state = { StartedAt: at(1_000_100) };
    expect(ranWhileStopped({ ...c, stopDoneAt: undefined }, state)).toBeUndefined();
    expect(ranWhileStopped({ ...c, startIssuedAt: undefined }, state)).toBeUndefined();
  });
});

/**
 * Unit `shop` backed up on a fake host; while kopia reads its db volume, `meanwhile` acts on the fake
 * docker as something else would (the runner waits a few ms around it, so the clocks differ).
 */
async function backUp(meanwhile?: (docker: FakeDocker) => void) {
  const dir = tempDir("kd-ran-");
  dirs.push(dir);
  const docker = new FakeDocker({
    containers: ["web", "app", "db"].map((s) =>
      FakeDocker.container(`id-shop_${s}_1`, { StartedAt: BEFORE }, `shop_${s}_1`),
    ),
  });
  const fake = new FakeRunner([], kopiaAnswers());
  const runner: Runner = {
    async run(argv, o) {
      if (meanwhile && argv.includes("create") && argv.some((a) => a.includes("shop_dbdata"))) {
        await Bun.sleep(3);
        meanwhile(docker);
        await Bun.sleep(3);
      }
      return fake.run(argv, o);
    },
  };
  const deps = backupDeps({ config: config(), runner, docker, dir: dir.path });
  const plan = planBackup(deps.config, discovery(stackUnit()), new Date(), {
    ...planOpts,
    stagingDir: dir.path,
    scope: "minimal",
  });
  const record = await executeBackup(deps, plan, discovery(stackUnit()));
  return { record, docker, calls: fake.calls.map((c) => c.argv.join(" ")) };
}

describe("a container started by something else during the cold window", () => {
  test("control: nobody else starts it: the unit is ok, nothing deleted", async () => {
    const { record, calls } = await backUp();
    expect(record.status).toBe("ok");
    expect(calls.some((c) => c.includes("snapshot delete"))).toBe(false);
  });

  test("started and left running: the unit fails naming it, its data snapshots fail and are deleted", async () => {
    const { record, docker, calls } = await backUp((d) => d.startedElsewhere("id-shop_db_1"));
    // No docker call was added to the window: stops, then starts, each start followed by its wait;
    // after the window, the one look whether they still run (`backup/settle.ts`).
    expect(docker.calls.filter((c) => !c.startsWith("state "))).toEqual([
      "stop id-shop_web_1 -t30",
      "stop id-shop_app_1 -t30",
      "stop id-shop_db_1 -t30",
      "start id-shop_db_1",
      "wait id-shop_db_1",
      "start id-shop_app_1",
      "wait id-shop_app_1",
      "start id-shop_web_1",
      "wait id-shop_web_1",
      "inspect id-shop_db_1 id-shop_app_1 id-shop_web_1",
    ]);
    const u = record.units[0];
    expect(u?.status).toBe("failed");
    expect(u?.errors[0]).toMatchObject({ phase: "stop", item: "shop_db_1" });
    expect(u?.errors[0]?.message).toContain("started by something else");
    expect(u?.errors[0]?.next).toContain("docker events --filter container=shop_db_1");
    expect(u?.sources.map((s) => [s.label, s.status])).toEqual([
      ["shop_dbdata", "failed"],
      ["/srv/shop/uploads", "failed"],
    ]);
    expect(u?.sources[0]?.reason).toContain("discarded: shop_db_1 ran while its data was read");
    expect(calls.filter((c) => c.includes("snapshot delete"))).toHaveLength(1);
    expect(calls.find((c) => c.includes("snapshot delete"))).toContain("m1 m1 --delete");
    expect(record.status).toBe("failed");
    const error = outcomeError(record);
    expect(exitCodeFor(error)).toBe(1);
    const m = runMessage(record, exitCodeFor(error));
    expect(m.body).toContain("stop shop_db_1: started by something else");
    expect(m.body).toContain("next: find what starts shop_db_1");
  });

  test("started and stopped again before our start: FinishedAt gives it away", async () => {
    const { record } = await backUp((d) => {
      d.startedElsewhere("id-shop_app_1");
      const c = d.containers.get("id-shop_app_1");
      if (c) c.State = { ...c.State, Running: false, Status: "exited", FinishedAt: new Date().toISOString() };
    });
    const u = record.units[0];
    expect(u?.status).toBe("failed");
    expect(u?.errors[0]).toMatchObject({ phase: "stop", item: "shop_app_1" });
    expect(u?.errors[0]?.message).toContain("stopped again at");
    expect(u?.sources.every((s) => s.status === "failed")).toBe(true);
  });
});

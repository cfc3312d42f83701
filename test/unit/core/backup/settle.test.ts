import { afterEach, describe, expect, test } from "bun:test";
import { runMessage } from "../../../../src/core/alerts/message.ts";
import { executeBackup } from "../../../../src/core/backup/execute.ts";
import { planBackup } from "../../../../src/core/backup/plan.ts";
import { outcomeError } from "../../../../src/core/backup/result.ts";
import { type Started, settleStarted } from "../../../../src/core/backup/settle.ts";
import { SETTLE_MS } from "../../../../src/core/containers/settle.ts";
import { createDocker } from "../../../../src/core/docker/docker.ts";
import { exitCodeFor } from "../../../../src/exit-codes.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { type Expectation, FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { backupDeps, config, discovery, kopiaAnswers, planOpts, stackUnit } from "./fixtures.ts";

// `docker start` returns once the process is launched, and docker reads Running=true while a restart
// policy restarts a crashing container: the wait after each start is no proof that the app runs. One
// look per unit, SETTLE_MS after the last start, tells; a container down then fails the unit's start.

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const T0 = "2026-03-01T10:00:00.123456789Z";
const running = { Status: "running", Running: true, StartedAt: T0 };
const loop = { Status: "restarting", Running: true, Restarting: true, ExitCode: 1, StartedAt: T0 };
/** As docker inspects it; `docker start` resets RestartCount: restarts by its policy since our start. */
const inspectOf = (id: string, name: string, state: object, restarts = 0, policy = "always") => ({
  Id: id,
  Name: `/${name}`,
  Image: "sha256:1",
  State: state,
  Config: { Image: "busybox" },
  HostConfig: { RestartPolicy: { Name: policy, MaximumRetryCount: 0 } },
  RestartCount: restarts,
});
const started = (id: string, name: string, runningAt = Date.now()): Started => ({
  id,
  name,
  seen: running,
  runningAt,
});

/**
 * settleStarted over the docker client and a strict fake runner; `sleeps` what it waited. A start
 * bounded by `startTimeout` seconds: 6 gives two looks (`settleLooks`).
 */
function settleWith(queue: Expectation[], startTimeout = 6) {
  const dir = tempDir("kd-settle-");
  dirs.push(dir);
  const runner = new FakeRunner(queue);
  const sleeps: number[] = [];
  const deps = {
    ...backupDeps({
      config: config({ backup: { start_timeout: startTimeout } }),
      runner,
      docker: createDocker(runner),
      dir: dir.path,
    }),
    sleep: async (ms: number) => void sleeps.push(ms),
  };
  return { runner, sleeps, deps };
}

describe("settleStarted: the one look after a unit's starts", () => {
  test("one wait, one inspect of them all; the one its policy keeps restarting fails, named with state and code", async () => {
    const { runner, sleeps, deps } = settleWith([
      {
        argv: ["docker", "inspect", "--type", "container", "aaa1", "bbb2"],
        stdout: JSON.stringify([inspectOf("aaa1", "web", running), inspectOf("bbb2", "db", loop, 1)]),
      },
      // Restarting is looked at again, to the last look: still restarting then.
      { argv: inspectArgv("bbb2"), stdout: JSON.stringify([inspectOf("bbb2", "db", loop, 3)]) },
    ]);
    const r = await settleStarted(deps, "shop", [
      started("aaa1", "web", Date.now() - 1000),
      started("bbb2", "db"),
    ]);
    expect(r.restartFailed).toEqual(["db"]);
    expect(r.errors).toEqual([
      {
        phase: "start",
        item: "db",
        message:
          "restarting: exited (code 1) and is being restarted by its restart policy (3 restarts so far), at every look since its start: it is crash-looping",
        next: "see why: docker logs db",
      },
    ]);
    expect(r.warnings).toEqual([]);
    // SETTLE_MS from the last one seen running (the earlier ones have waited longer already).
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeGreaterThan(SETTLE_MS - 500);
    expect(sleeps[0]).toBeLessThanOrEqual(SETTLE_MS);
    expect(runner.remaining).toBe(0);
  });

  test("all still running: nothing failed", async () => {
    const { deps } = settleWith([
      { argv: (a) => a[1] === "inspect", stdout: JSON.stringify([inspectOf("aaa1", "web", running)]) },
    ]);
    expect(await settleStarted(deps, "shop", [started("aaa1", "web")])).toEqual({
      restartFailed: [],
      errors: [],
      warnings: [],
    });
  });

  test("past SETTLE_MS already (a long save): no wait", async () => {
    const { sleeps, deps } = settleWith([
      { argv: (a) => a[1] === "inspect", stdout: JSON.stringify([inspectOf("aaa1", "web", running)]) },
    ]);
    await settleStarted(deps, "shop", [started("aaa1", "web", Date.now() - 2 * SETTLE_MS)]);
    expect(sleeps).toEqual([0]);
  });

  test("nothing started: no wait, no docker call", async () => {
    const { runner, sleeps, deps } = settleWith([]);
    await settleStarted(deps, "shop", []);
    expect(sleeps).toEqual([]);
    expect(runner.calls).toHaveLength(0);
  });

  test("a look docker cannot answer is a warning, no failed start", async () => {
    const { deps } = settleWith([
      { argv: (a) => a[1] === "inspect", exitCode: 1, stderr: "Cannot connect to the Docker daemon" },
    ]);
    const r = await settleStarted(deps, "shop", [started("aaa1", "web")]);
    expect(r.restartFailed).toEqual([]);
    expect(r.warnings[0]).toContain("cannot tell whether web still run");
  });

  test("a signal during the wait: no look (the run is recorded as interrupted)", async () => {
    const { runner, deps } = settleWith([]);
    deps.sleep = async () => void (await deps.lifecycle.onSignal("SIGTERM"));
    expect((await settleStarted(deps, "shop", [started("aaa1", "web")])).restartFailed).toEqual([]);
    expect(runner.calls).toHaveLength(0);
  });
});

const T1 = "2026-03-01T10:00:01.5Z";
const T2 = "2026-03-01T10:00:04.5Z";
const runningAs = (startedAt: string) => ({ ...running, StartedAt: startedAt });
const exited = (code: number) => ({ Status: "exited", Running: false, ExitCode: code, StartedAt: T0 });
const inspectArgv = (...ids: string[]) => ["docker", "inspect", "--type", "container", ...ids];

describe("settleStarted: one its restart policy started again is looked at again until it runs steadily", () => {
  test("crashed once, then runs (it started before its database accepted connections): a warning, no failure", async () => {
    const { runner, sleeps, deps } = settleWith([
      {
        argv: inspectArgv("aaa1", "bbb2"),
        stdout: JSON.stringify([
          inspectOf("aaa1", "web", running),
          inspectOf("bbb2", "app", runningAs(T1), 1),
        ]),
      },
      // Only the one that ran as another incarnation, SETTLE_MS on: still that one.
      { argv: inspectArgv("bbb2"), stdout: JSON.stringify([inspectOf("bbb2", "app", runningAs(T1), 1)]) },
    ]);
    const r = await settleStarted(deps, "shop", [started("aaa1", "web"), started("bbb2", "app")]);
    expect(r).toEqual({
      restartFailed: [],
      errors: [],
      warnings: [
        "app exited after the start and was restarted 1 time by its restart policy; it runs now (see why: docker logs app)",
      ],
    });
    expect(sleeps).toHaveLength(2);
    expect(sleeps[1]).toBeGreaterThan(SETTLE_MS - 500);
    expect(sleeps[1]).toBeLessThanOrEqual(SETTLE_MS);
    expect(runner.remaining).toBe(0);
  });

  test("restarting at the first look, another incarnation at the second, still that one at the third: a warning", async () => {
    // Its database took a few seconds: docker's restart delay doubled over a few crashes.
    const { runner, sleeps, deps } = settleWith(
      [
        { argv: inspectArgv("bbb2"), stdout: JSON.stringify([inspectOf("bbb2", "app", loop, 2)]) },
        { argv: inspectArgv("bbb2"), stdout: JSON.stringify([inspectOf("bbb2", "app", runningAs(T2), 3)]) },
        { argv: inspectArgv("bbb2"), stdout: JSON.stringify([inspectOf("bbb2", "app", runningAs(T2), 3)]) },
      ],
      9,
    );
    expect(await settleStarted(deps, "shop", [started("bbb2", "app")])).toEqual({
      restartFailed: [],
      errors: [],
      warnings: [
        "app exited after the start and was restarted 3 times by its restart policy; it runs now (see why: docker logs app)",
      ],
    });
    expect(sleeps).toHaveLength(3);
    expect(runner.remaining).toBe(0);
  });

  test("control: still that one at the first look: one look, no warning", async () => {
    const { runner, sleeps, deps } = settleWith([
      { argv: inspectArgv("bbb2"), stdout: JSON.stringify([inspectOf("bbb2", "app", running)]) },
    ]);
    expect(await settleStarted(deps, "shop", [started("bbb2", "app")])).toEqual({
      restartFailed: [],
      errors: [],
      warnings: [],
    });
    expect(sleeps).toHaveLength(1);
    expect(runner.remaining).toBe(0);
  });

  test("another incarnation again at the second look: crash-looping, the unit's failed start", async () => {
    const { runner, deps } = settleWith([
      { argv: inspectArgv("bbb2"), stdout: JSON.stringify([inspectOf("bbb2", "app", runningAs(T1), 1)]) },
      { argv: inspectArgv("bbb2"), stdout: JSON.stringify([inspectOf("bbb2", "app", runningAs(T2), 2)]) },
    ]);
    const r = await settleStarted(deps, "shop", [started("bbb2", "app")]);
    expect(r.restartFailed).toEqual(["app"]);
    expect(r.errors).toEqual([
      {
        phase: "start",
        item: "app",
        message:
          "restarting: exited and was started again by its restart policy (2 restarts so far), at every look since its start: it is crash-looping",
        next: "see why: docker logs app",
      },
    ]);
    expect(r.warnings).toEqual([]);
    expect(runner.remaining).toBe(0);
  });

  test("down at the second look (on-failure gave up): failed, with its code", async () => {
    const { deps } = settleWith([
      { argv: inspectArgv("bbb2"), stdout: JSON.stringify([inspectOf("bbb2", "app", runningAs(T1), 1)]) },
      {
        argv: inspectArgv("bbb2"),
        stdout: JSON.stringify([inspectOf("bbb2", "app", { ...exited(1), StartedAt: T1 }, 1, "on-failure")]),
      },
    ]);
    const r = await settleStarted(deps, "shop", [started("bbb2", "app")]);
    expect(r.restartFailed).toEqual(["app"]);
    expect(r.errors[0]?.message).toBe(
      `exited: exited with code 1 within ${SETTLE_MS / 1000}s of a restart by its policy`,
    );
  });

  test("a signal before the second look: no look (the run is recorded as interrupted)", async () => {
    const { runner, deps } = settleWith([
      { argv: inspectArgv("bbb2"), stdout: JSON.stringify([inspectOf("bbb2", "app", runningAs(T1), 1)]) },
    ]);
    let waits = 0;
    deps.sleep = async () => {
      if (++waits === 2) await deps.lifecycle.onSignal("SIGTERM");
    };
    expect(await settleStarted(deps, "shop", [started("bbb2", "app")])).toEqual({
      restartFailed: [],
      errors: [],
      warnings: [],
    });
    expect(runner.remaining).toBe(0);
  });
});

describe("settleStarted: a one-off job (policy no, on-failure) that ran again and exited", () => {
  test("exit 0: finished, a warning, no failed start", async () => {
    const { deps } = settleWith([
      {
        argv: inspectArgv("ccc3"),
        stdout: JSON.stringify([inspectOf("ccc3", "migrate", exited(0), 0, "no")]),
      },
    ]);
    const r = await settleStarted(deps, "shop", [{ ...started("ccc3", "migrate"), mayFinish: true }]);
    expect(r).toEqual({
      restartFailed: [],
      errors: [],
      warnings: [
        "migrate ran and exited 0 after the start (restart policy no): a one-off job that finished, not a failed start",
      ],
    });
  });

  test("exit 1: a failed start, with its code", async () => {
    const { deps } = settleWith([
      {
        argv: inspectArgv("ccc3"),
        stdout: JSON.stringify([inspectOf("ccc3", "migrate", exited(1), 0, "on-failure")]),
      },
    ]);
    const r = await settleStarted(deps, "shop", [{ ...started("ccc3", "migrate"), mayFinish: true }]);
    expect(r.restartFailed).toEqual(["migrate"]);
    expect(r.errors[0]?.message).toBe(`exited: exited with code 1 within ${SETTLE_MS / 1000}s of its start`);
  });
});

/** Unit `shop` backed up on a fake host; at the look after its starts `atLook` changes the host. */
async function backUp(
  atLook: (docker: FakeDocker) => void = () => {},
  atCall: (call: string, docker: FakeDocker) => void = () => {},
) {
  const dir = tempDir("kd-settle-run-");
  dirs.push(dir);
  let looked = false;
  const docker: FakeDocker = new FakeDocker({
    containers: ["web", "app", "db"].map((s) =>
      FakeDocker.container(`id-shop_${s}_1`, { StartedAt: T0 }, `shop_${s}_1`),
    ),
    before: (call) => {
      atCall(call, docker);
      if (call.startsWith("inspect ") && !looked) {
        looked = true;
        atLook(docker);
      }
    },
  });
  const deps = backupDeps({
    config: config(),
    runner: new FakeRunner([], kopiaAnswers()),
    docker,
    dir: dir.path,
  });
  const plan = planBackup(deps.config, discovery(stackUnit()), new Date(), {
    ...planOpts,
    stagingDir: dir.path,
    scope: "minimal",
  });
  return { record: await executeBackup(deps, plan, discovery(stackUnit())), docker };
}

describe("a backup whose restarted container crash-loops", () => {
  test("control: all still run at the look: ok, exit 0", async () => {
    const { record, docker } = await backUp();
    expect(record.status).toBe("ok");
    expect(outcomeError(record)).toBeUndefined();
    // The look comes after the last start's wait: the cold window ends where it did.
    expect(docker.calls.filter((c) => !c.startsWith("state ")).slice(-3)).toEqual([
      "start id-shop_web_1",
      "wait id-shop_web_1",
      "inspect id-shop_db_1 id-shop_app_1 id-shop_web_1",
    ]);
  });

  test("restarting at the look: the unit's failed start, exit 4, the alert names it with state and exit code", async () => {
    const { record } = await backUp((d) => {
      const c = d.containers.get("id-shop_db_1");
      if (c) c.State = { ...c.State, Status: "restarting", Restarting: true, ExitCode: 1 };
    });
    const u = record.units[0];
    expect(u?.status).toBe("failed");
    expect(u?.restartFailed).toEqual(["shop_db_1"]);
    expect(u?.errors).toContainEqual(
      expect.objectContaining({ phase: "start", item: "shop_db_1", next: "see why: docker logs shop_db_1" }),
    );
    expect(record.status).toBe("restart_failed");
    const error = outcomeError(record);
    expect(exitCodeFor(error)).toBe(4);
    expect(error?.message).toContain("CONTAINERS NOT RUNNING AGAIN: shop_db_1");
    const m = runMessage(record, exitCodeFor(error));
    expect(m.severity).toBe("urgent");
    expect(m.title).toContain("containers NOT running again: shop_db_1");
    expect(m.body).toContain(
      "start shop_db_1: restarting: exited (code 1) and is being restarted by its restart policy, at every look since its start: it is crash-looping",
    );
    expect(m.body).toContain("next: see why: docker logs shop_db_1");
  });

  test("exited at the look (policy no): the same failed start, with its code", async () => {
    const { record } = await backUp((d) => {
      const c = d.containers.get("id-shop_app_1");
      if (c) c.State = { ...c.State, Status: "exited", Running: false, ExitCode: 2 };
    });
    expect(record.status).toBe("restart_failed");
    expect(record.units[0]?.restartFailed).toEqual(["shop_app_1"]);
    const e = record.units[0]?.errors.find((x) => x.item === "shop_app_1");
    expect(e?.message).toBe("exited: exited with code 2 within 3s of its start");
  });
});

describe("a backup whose restarted container crashed once and runs, or was a one-off job", () => {
  test("started again by its policy at the first look, that one still runs at the second: ok, exit 0, a warning", async () => {
    const { record, docker } = await backUp((d) => {
      const c = d.containers.get("id-shop_app_1");
      if (c) Object.assign(c, { RestartCount: 1, State: { ...c.State, StartedAt: T1 } });
    });
    expect(record.status).toBe("ok");
    expect(outcomeError(record)).toBeUndefined();
    expect(record.units[0]?.restartFailed).toEqual([]);
    expect(record.units[0]?.warnings).toEqual([
      "shop_app_1 exited after the start and was restarted 1 time by its restart policy; it runs now (see why: docker logs shop_app_1)",
    ]);
    expect(docker.calls.filter((c) => c.startsWith("inspect id-")).slice(-2)).toEqual([
      "inspect id-shop_db_1 id-shop_app_1 id-shop_web_1",
      "inspect id-shop_app_1",
    ]);
  });

  test("a one-off job (policy no) that exits 0 once started again: ok, exit 0, a warning; exit 1 stays a failed start", async () => {
    const exits = (code: number) => (call: string, d: FakeDocker) => {
      const c = d.containers.get("id-shop_app_1");
      if (call === "wait id-shop_app_1" && c)
        c.State = { ...c.State, Status: "exited", Running: false, ExitCode: code };
    };
    const done = await backUp(undefined, exits(0));
    expect(done.record.status).toBe("ok");
    expect(done.record.units[0]?.restartFailed).toEqual([]);
    expect(done.record.units[0]?.warnings).toEqual([
      "shop_app_1 ran and exited 0 after the start (restart policy no): a one-off job that finished, not a failed start",
    ]);
    const failed = await backUp(undefined, exits(1));
    expect(failed.record.status).toBe("restart_failed");
    expect(exitCodeFor(outcomeError(failed.record))).toBe(4);
    expect(failed.record.units[0]?.restartFailed).toEqual(["shop_app_1"]);
  });

  test("exited 0 at the look (policy no): finished, a warning, exit 0", async () => {
    const { record } = await backUp((d) => {
      const c = d.containers.get("id-shop_app_1");
      if (c) c.State = { ...c.State, Status: "exited", Running: false, ExitCode: 0 };
    });
    expect(record.status).toBe("ok");
    expect(record.units[0]?.warnings).toEqual([
      "shop_app_1 ran and exited 0 after the start (restart policy no): a one-off job that finished, not a failed start",
    ]);
  });
});

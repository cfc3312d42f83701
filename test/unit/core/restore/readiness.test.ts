import { describe, expect, test } from "bun:test";
import { SETTLE_MS } from "../../../../src/core/containers/settle.ts";
import { createDocker } from "../../../../src/core/docker/docker.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { confirmRunning, notStartedError } from "../../../../src/core/restore/readiness.ts";
import { exitCodeFor } from "../../../../src/exit-codes.ts";
import { type Expectation, FakeRunner } from "../../../fakes/fake-runner.ts";

// What a restore says of the containers it started: each one is waited for, then looked at once more
// after SETTLE_MS, as `docker start` returns before an app that fails on its data has exited.

const T0 = "2026-03-01T10:00:00.123456789Z";
const running = { Status: "running", Running: true, StartedAt: T0 };
const container = (id: string, name: string, state: object, over: Record<string, unknown> = {}) => ({
  Id: id,
  Name: `/${name}`,
  Image: "sha256:1",
  State: state,
  Config: { Image: "busybox", Labels: {} },
  HostConfig: { RestartPolicy: { Name: "no", MaximumRetryCount: 0 } },
  ...over,
});
const inspect = (refs: string[], out: object[]): Expectation => ({
  argv: ["docker", "inspect", "--type", "container", ...refs],
  stdout: JSON.stringify(out),
});
const stateOf = (id: string, s: object): Expectation => ({
  argv: ["docker", "inspect", "--format", "{{json .State}}", id],
  stdout: JSON.stringify(s),
});
const setup = (queue: Expectation[]) => {
  const runner = new FakeRunner(queue);
  const slept: number[] = [];
  const sleep = async (ms: number) => {
    slept.push(ms);
  };
  const d = { docker: createDocker(runner), log: silentLogger() };
  const o = { timeoutSec: 60, since: new Date("2026-03-01T09:59:59Z"), sleep };
  return { runner, slept, d, o };
};

describe("confirmRunning", () => {
  test("one that still runs as the same incarnation after the settle time is fine", async () => {
    const web = container("aaa1", "web", running);
    const { runner, slept, d, o } = setup([
      inspect(["web"], [web]),
      stateOf("aaa1", running),
      inspect(["aaa1"], [web]),
    ]);
    expect(await confirmRunning(d, [{ ref: "web", name: "web" }], o)).toEqual({
      notRunning: [],
      pausedAgain: [],
      warnings: [],
    });
    expect(slept).toEqual([SETTLE_MS]);
    expect(runner.remaining).toBe(0);
  });

  test("one that exited under policy no is named with its state and `docker logs`", async () => {
    const exited = { Status: "exited", Running: false, StartedAt: T0, ExitCode: 3 };
    const { runner, slept, d, o } = setup([
      inspect(["aaa1"], [container("aaa1", "web", exited)]),
      stateOf("aaa1", exited),
    ]);
    const r = await confirmRunning(d, [{ ref: "aaa1", name: "web" }], o);
    expect(r.notRunning).toEqual([
      {
        name: "web",
        state: "exited",
        reason: expect.stringContaining("exited with code 3 right after it was started"),
        next: "see why: docker logs web",
      },
    ]);
    expect(slept).toEqual([]);
    expect(runner.remaining).toBe(0);
  });

  test("one its policy keeps restarting to the last look (as long as the start may take) is named restarting", async () => {
    const loop = { ...running, Restarting: true, ExitCode: 1, StartedAt: "2026-03-01T10:00:01Z" };
    const always = { HostConfig: { RestartPolicy: { Name: "always", MaximumRetryCount: 0 } } };
    const { d, o, slept, runner } = setup([
      inspect(["web"], [container("aaa1", "web", running, always)]),
      stateOf("aaa1", running),
      inspect(["aaa1"], [container("aaa1", "web", loop, always)]),
      inspect(["aaa1"], [container("aaa1", "web", loop, always)]),
    ]);
    // A start bounded by 6 s: two looks, 3 s apart.
    const r = await confirmRunning(d, [{ ref: "web", name: "web" }], { ...o, timeoutSec: 6 });
    expect(r.notRunning).toMatchObject([{ name: "web", state: "restarting" }]);
    expect(r.notRunning[0]?.reason).toBe(
      "exited (code 1) and is being restarted by its restart policy, at every look since its start: it is crash-looping",
    );
    expect(slept).toEqual([SETTLE_MS, SETTLE_MS]);
    expect(runner.remaining).toBe(0);
  });

  test("restarting at the first look (a crash on its database, not yet up), then running steadily: a warning", async () => {
    const always = { HostConfig: { RestartPolicy: { Name: "always", MaximumRetryCount: 0 } } };
    const loop = { ...running, Restarting: true, ExitCode: 1, StartedAt: T0 };
    const runs = container("aaa1", "web", { ...running, StartedAt: "2026-03-01T10:00:04Z" }, always);
    const { d, o, runner } = setup([
      inspect(["web"], [container("aaa1", "web", running, always)]),
      stateOf("aaa1", running),
      inspect(["aaa1"], [container("aaa1", "web", loop, { ...always, RestartCount: 1 })]),
      inspect(["aaa1"], [{ ...runs, RestartCount: 3 }]),
      inspect(["aaa1"], [{ ...runs, RestartCount: 3 }]),
    ]);
    const r = await confirmRunning(d, [{ ref: "web", name: "web" }], o);
    expect(r.notRunning).toEqual([]);
    expect(r.warnings).toEqual([
      "web exited after the start and was restarted 3 times by its restart policy; it runs now (see why: docker logs web)",
    ]);
    expect(runner.remaining).toBe(0);
  });

  test("one its policy started again before the look, running as that one SETTLE_MS on: a warning, not down", async () => {
    const T1 = "2026-03-01T10:00:01Z";
    const always = { HostConfig: { RestartPolicy: { Name: "always", MaximumRetryCount: 0 } } };
    const again = container("aaa1", "web", { ...running, StartedAt: T1 }, { ...always, RestartCount: 1 });
    const { runner, slept, d, o } = setup([
      inspect(["web"], [container("aaa1", "web", running, always)]),
      stateOf("aaa1", running),
      inspect(["aaa1"], [again]),
      inspect(["aaa1"], [again]),
    ]);
    expect(await confirmRunning(d, [{ ref: "web", name: "web" }], o)).toEqual({
      notRunning: [],
      pausedAgain: [],
      warnings: [
        "web exited after the start and was restarted 1 time by its restart policy; it runs now (see why: docker logs web)",
      ],
    });
    expect(slept).toEqual([SETTLE_MS, SETTLE_MS]);
    expect(runner.remaining).toBe(0);
  });

  test("started again by its policy at each look to the last: crash-looping, named restarting", async () => {
    const always = { HostConfig: { RestartPolicy: { Name: "always", MaximumRetryCount: 0 } } };
    const as = (t: string, n: number) =>
      container("aaa1", "web", { ...running, StartedAt: t }, { ...always, RestartCount: n });
    const { runner, d, o } = setup([
      inspect(["web"], [container("aaa1", "web", running, always)]),
      stateOf("aaa1", running),
      inspect(["aaa1"], [as("2026-03-01T10:00:01Z", 1)]),
      inspect(["aaa1"], [as("2026-03-01T10:00:04Z", 2)]),
    ]);
    const r = await confirmRunning(d, [{ ref: "web", name: "web" }], { ...o, timeoutSec: 6 });
    expect(r.notRunning).toMatchObject([{ name: "web", state: "restarting" }]);
    expect(r.notRunning[0]?.reason).toContain("it is crash-looping");
    expect(r.warnings).toEqual([]);
    expect(runner.remaining).toBe(0);
  });

  test("a compose project: its containers by label; a finished job and an orphan left stopped are not judged", async () => {
    const job = { Status: "exited", Running: false, StartedAt: T0, ExitCode: 0 };
    const orphan = { Status: "exited", Running: false, StartedAt: "2025-01-01T00:00:00Z", ExitCode: 137 };
    const { runner, d, o } = setup([
      {
        argv: (a) =>
          a.join(" ") ===
          "docker ps -a --no-trunc --filter label=com.docker.compose.project=shop --filter label=com.docker.compose.oneoff=False --format {{.Names}}\t{{.State}}",
        stdout: "shop_app_1\trunning\nshop_migrate_1\texited\nshop_old_1\texited\n",
      },
      inspect(
        ["shop_app_1", "shop_migrate_1", "shop_old_1"],
        [
          container("app1", "shop_app_1", running),
          container("mig1", "shop_migrate_1", job),
          container("old1", "shop_old_1", orphan),
        ],
      ),
      stateOf("app1", running),
      stateOf("mig1", job),
      inspect(["app1"], [container("app1", "shop_app_1", running)]),
    ]);
    const r = await confirmRunning(d, [], { ...o, project: "shop" });
    expect(r).toEqual({ notRunning: [], pausedAgain: [], warnings: [] });
    expect(runner.remaining).toBe(0);
  });

  test("one paused before the restore is paused again once it runs; one that did not run is not", async () => {
    const exited = { Status: "exited", Running: false, StartedAt: T0, ExitCode: 3 };
    const { runner, d, o } = setup([
      inspect(["aaa1", "bbb2"], [container("aaa1", "web", running), container("bbb2", "db", exited)]),
      stateOf("aaa1", running),
      stateOf("bbb2", exited),
      inspect(["aaa1"], [container("aaa1", "web", running)]),
      { argv: ["docker", "pause", "aaa1"] },
    ]);
    const r = await confirmRunning(
      d,
      [
        { ref: "aaa1", name: "web", paused: true },
        { ref: "bbb2", name: "db", paused: true },
      ],
      o,
    );
    expect(r.pausedAgain).toEqual(["web"]);
    expect(r.notRunning).toMatchObject([{ name: "db", state: "exited" }]);
    expect(runner.remaining).toBe(0);
  });

  test("one paused before that runs at the first look is paused again then, before the look at one restarted", async () => {
    const always = { HostConfig: { RestartPolicy: { Name: "always", MaximumRetryCount: 0 } } };
    const again = container("bbb2", "app", { ...running, StartedAt: "2026-03-01T10:00:01Z" }, always);
    const { runner, d, o } = setup([
      inspect(
        ["aaa1", "bbb2"],
        [container("aaa1", "web", running), container("bbb2", "app", running, always)],
      ),
      stateOf("aaa1", running),
      stateOf("bbb2", running),
      inspect(["aaa1", "bbb2"], [container("aaa1", "web", running), { ...again, RestartCount: 1 }]),
      // web is judged at the first look: paused again then, not once app's looks are over.
      { argv: ["docker", "pause", "aaa1"] },
      inspect(["bbb2"], [{ ...again, RestartCount: 1 }]),
    ]);
    const r = await confirmRunning(
      d,
      [
        { ref: "aaa1", name: "web", paused: true },
        { ref: "bbb2", name: "app" },
      ],
      o,
    );
    expect(r.pausedAgain).toEqual(["web"]);
    expect(r.warnings).toEqual([
      "app exited after the start and was restarted 1 time by its restart policy; it runs now (see why: docker logs app)",
    ]);
    expect(runner.remaining).toBe(0);
  });

  test("a look docker cannot answer: each one looked at is named as not known to run, never taken to run", async () => {
    const { runner, d, o } = setup([
      inspect(["aaa1"], [container("aaa1", "web", running)]),
      stateOf("aaa1", running),
      { ...inspect(["aaa1"], []), stdout: "", exitCode: 1, stderr: "Cannot connect to the Docker daemon" },
    ]);
    const r = await confirmRunning(d, [{ ref: "aaa1", name: "web" }], o);
    expect(r.notRunning).toEqual([
      {
        name: "web",
        // Before: "removed", which the docker that did not answer never said.
        state: "unknown",
        reason: `docker did not answer the look ${SETTLE_MS / 1000}s after its start: \`docker inspect --type container\` failed: Cannot connect to the Docker daemon`,
        next: "see why: docker logs web",
      },
    ]);
    expect(runner.remaining).toBe(0);
  });

  test("a pause that fails leaves it running, and says so", async () => {
    const { d, o } = setup([
      inspect(["aaa1"], [container("aaa1", "web", running)]),
      stateOf("aaa1", running),
      inspect(["aaa1"], [container("aaa1", "web", running)]),
      { argv: ["docker", "pause", "aaa1"], exitCode: 1, stderr: "Error response from daemon: no" },
    ]);
    const r = await confirmRunning(d, [{ ref: "aaa1", name: "web", paused: true }], o);
    expect(r.pausedAgain).toEqual([]);
    expect(r.warnings[0]).toContain("web was paused before the restore and runs now");
    expect(r.warnings[0]).toContain("`docker pause web` pauses it again");
  });

  test("a compose init job under on-failure that exited 0 is finished, not waited for until start_timeout", async () => {
    const job = { Status: "exited", Running: false, StartedAt: T0, ExitCode: 0 };
    const onFailure = { HostConfig: { RestartPolicy: { Name: "on-failure", MaximumRetryCount: 0 } } };
    const { runner, d, o } = setup([
      {
        argv: (a) => a[1] === "ps" && a.includes("label=com.docker.compose.project=p"),
        stdout: "p_init_1\texited\n",
      },
      inspect(["p_init_1"], [container("ini1", "p_init_1", job, onFailure)]),
      stateOf("ini1", job),
    ]);
    // timeoutSec 0: a wait that goes on past the first look ends at its deadline, "exited after 0s".
    const r = await confirmRunning(d, [], { ...o, timeoutSec: 0, project: "p" });
    expect(r).toEqual({ notRunning: [], pausedAgain: [], warnings: [] });
    expect(runner.remaining).toBe(0);
  });

  test("one paused before that runs but is not healthy in time is paused again, and named unhealthy", async () => {
    const sick = { ...running, Health: { Status: "unhealthy" } };
    const { runner, d, o } = setup([
      inspect(["aaa1"], [container("aaa1", "web", sick)]),
      stateOf("aaa1", sick),
      { argv: ["docker", "pause", "aaa1"] },
    ]);
    const r = await confirmRunning(d, [{ ref: "aaa1", name: "web", paused: true }], { ...o, timeoutSec: 0 });
    expect(r.pausedAgain).toEqual(["web"]);
    expect(r.notRunning).toEqual([
      {
        name: "web",
        state: "unhealthy",
        reason: "runs but is unhealthy: running but unhealthy after 0s",
        next: "see why: docker inspect --format '{{json .State.Health}}' web",
      },
    ]);
    expect(runner.remaining).toBe(0);
  });

  test("one still starting its healthcheck at the deadline is named starting", async () => {
    const starting = { ...running, Health: { Status: "starting" } };
    const { d, o } = setup([
      inspect(["aaa1"], [container("aaa1", "web", starting)]),
      stateOf("aaa1", starting),
    ]);
    const r = await confirmRunning(d, [{ ref: "aaa1", name: "web" }], { ...o, timeoutSec: 0 });
    expect(r.notRunning).toMatchObject([{ name: "web", state: "starting" }]);
    expect(r.notRunning[0]?.reason).toStartWith("runs but is still starting");
  });

  test("one removed after its start is named removed", async () => {
    const { d, o } = setup([inspect(["web"], [])]);
    const r = await confirmRunning(d, [{ ref: "web", name: "web" }], o);
    expect(r.notRunning).toMatchObject([{ name: "web", state: "removed" }]);
  });
});

test("notStartedError: exit 4, says the data is restored and names what to look at", () => {
  const e = notStartedError({
    restartFailed: ["db", "web"],
    notRunning: [
      { name: "web", state: "exited", reason: "exited with code 3", next: "see why: docker logs web" },
    ],
  });
  expect(exitCodeFor(e)).toBe(4);
  expect(e.message).toBe(
    "restored (the data is in place, nothing was rolled back), but db could not be started; not running: web (exited)",
  );
  expect(e.hint).toContain("docker logs web");
  expect(e.hint).toContain("kopi-docka recover");
});

test("notStartedError: one that runs but is unhealthy is said so, with its health log, not `docker start`", () => {
  const e = notStartedError({
    notRunning: [
      {
        name: "web",
        state: "unhealthy",
        reason: "runs but is unhealthy: running but unhealthy after 20s",
        next: "see why: docker inspect --format '{{json .State.Health}}' web",
      },
    ],
  });
  expect(exitCodeFor(e)).toBe(4);
  expect(e.message).toBe(
    "restored (the data is in place, nothing was rolled back), but web runs but is unhealthy",
  );
  expect(e.hint).toBe("see why: docker inspect --format '{{json .State.Health}}' web");
});

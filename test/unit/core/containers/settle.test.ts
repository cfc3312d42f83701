import { describe, expect, test } from "bun:test";
import {
  afterSettle,
  isRestarted,
  judgeLook,
  lookUntilSteady,
  SETTLE_MS,
  type Settling,
  settleLooks,
} from "../../../../src/core/containers/settle.ts";
import type { ContainerInspect, ContainerState } from "../../../../src/core/docker/schemas.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";

// The second look at a container the wait saw running, SETTLE_MS later, as backup and restore make it.

const T0 = "2026-03-01T10:00:00.123456789Z";
const T1 = "2026-03-01T10:00:02.5Z";
const seen: ContainerState = { Status: "running", Running: true, StartedAt: T0 };
const inspect = (state: ContainerState, policy = "always", over: Partial<ContainerInspect> = {}) => ({
  Id: "aaa1",
  Name: "/web",
  Image: "sha256:1",
  State: state,
  Config: { Image: "busybox" },
  HostConfig: { RestartPolicy: { Name: policy, MaximumRetryCount: 0 } },
  ...over,
});
const secs = `${SETTLE_MS / 1000}s`;

describe("afterSettle", () => {
  test("the incarnation the wait saw still runs: fine, paused (paused again by the run) too", () => {
    expect(afterSettle({ name: "web", seen }, inspect(seen))).toBe("runs");
    const paused = { ...seen, Status: "paused", Paused: true };
    expect(afterSettle({ name: "web", seen }, inspect(paused))).toBe("runs");
  });

  test("between two attempts of a crash loop docker reads Running=true: looked at again; at the last look, restarting, with the last exit code", () => {
    const loop = { Status: "restarting", Running: true, Restarting: true, ExitCode: 1, StartedAt: T0 };
    expect(afterSettle({ name: "web", seen }, inspect(loop, "always", { RestartCount: 2 }))).toBe(
      "look again",
    );
    expect(afterSettle({ name: "web", seen }, inspect(loop, "always", { RestartCount: 2 }), true)).toEqual({
      name: "web",
      state: "restarting",
      reason: `exited (code 1) within ${secs} of its start and is being restarted by its restart policy (2 restarts so far)`,
      next: "see why: docker logs web",
    });
  });

  test("running again as another incarnation: looked at again (it may have crashed once and run now)", () => {
    const again = { Status: "running", Running: true, ExitCode: 0, StartedAt: T1 };
    expect(afterSettle({ name: "web", seen }, inspect(again, "unless-stopped", { RestartCount: 1 }))).toBe(
      "look again",
    );
  });

  test("at the look again, the same incarnation still runs: it restarted and runs, a warning with the count", () => {
    const again = { Status: "running", Running: true, ExitCode: 0, StartedAt: T1 };
    const w = { name: "web", seen: again, restarted: true };
    expect(afterSettle(w, inspect(again, "unless-stopped", { RestartCount: 1 }))).toEqual({
      name: "web",
      warning:
        "web exited after the start and was restarted 1 time by its restart policy; it runs now (see why: docker logs web)",
    });
    // No RestartCount from docker: said without a count.
    const v = afterSettle(w, inspect(again, "always"));
    expect(isRestarted(v) ? v.warning : "").toStartWith(
      "web exited after the start and was restarted by its",
    );
  });

  test("at the last look, yet another incarnation: crash-looping, restarting, and no exit code", () => {
    const T2 = "2026-03-01T10:00:05.5Z";
    const third = { Status: "running", Running: true, ExitCode: 0, StartedAt: T2 };
    const w = { name: "web", seen: { ...third, StartedAt: T1 }, restarted: true };
    // Before the last look, another restart is looked at again: it may still come to run steadily.
    expect(afterSettle(w, inspect(third, "unless-stopped", { RestartCount: 2 }))).toBe("look again");
    const v = afterSettle(w, inspect(third, "unless-stopped", { RestartCount: 2 }), true);
    expect(v).toMatchObject({ name: "web", state: "restarting" });
    const reason = typeof v === "string" || isRestarted(v) ? "" : v.reason;
    expect(reason).toBe(
      "exited and was started again by its restart policy (2 restarts so far), at every look since its start: it is crash-looping",
    );
    expect(reason).not.toContain("code 0");
    // Restarting at the last look, or down at any: not running either.
    const loop = { Status: "restarting", Running: true, Restarting: true, ExitCode: 1, StartedAt: T1 };
    expect(afterSettle(w, inspect(loop, "always", { RestartCount: 2 }), true)).toMatchObject({
      state: "restarting",
    });
    const down = { Status: "exited", Running: false, ExitCode: 1, StartedAt: T1 };
    expect(afterSettle(w, inspect(down, "on-failure:1"))).toMatchObject({ state: "exited" });
  });

  test("the wait saw it restarted already (RestartCount since our start): runs, a warning", () => {
    const v = afterSettle({ name: "web", seen }, inspect(seen, "always", { RestartCount: 2 }));
    expect(isRestarted(v) ? v.warning : v).toContain(
      "was restarted 2 times by its restart policy; it runs now",
    );
  });

  test("judgeLook: the one to look at again keeps the incarnation this look saw", () => {
    const again = { Status: "running", Running: true, StartedAt: T1 };
    const items: Settling[] = [
      { name: "web", seen },
      { name: "db", seen },
    ];
    const r = judgeLook(items, (t) =>
      t.name === "web" ? inspect(again) : inspect(seen, "always", { Name: "/db" }),
    );
    expect(r.again).toEqual([{ name: "web", seen: again, restarted: true }]);
    expect(r.judged).toEqual([{ t: { name: "db", seen }, verdict: "runs" }]);
  });

  test("judgeLook at the last look: one restarted again is judged, crash-looping, not looked at again", () => {
    const again = { Status: "running", Running: true, StartedAt: T1 };
    const r = judgeLook([{ name: "web", seen, restarted: true }], () => inspect(again), true);
    expect(r.again).toEqual([]);
    expect(r.judged[0]?.verdict).toMatchObject({ name: "web", state: "restarting" });
  });

  test("settleLooks: as many looks as the start may take, at least two", () => {
    expect(settleLooks(60)).toBe(60_000 / SETTLE_MS);
    expect(settleLooks(1)).toBe(2);
  });

  test('exited and left down (policy "no"): exited, with its code', () => {
    const exited = { Status: "exited", Running: false, ExitCode: 3, StartedAt: T0 };
    expect(afterSettle({ name: "web", seen }, inspect(exited, "no"))).toMatchObject({
      state: "exited",
      reason: `exited with code 3 within ${secs} of its start`,
    });
  });

  test("gone: removed", () => {
    expect(afterSettle({ name: "web", seen }, undefined)).toMatchObject({ state: "removed" });
  });

  test("exit 0 under no or on-failure is a finished job only for one that may finish", () => {
    const done = { Status: "exited", Running: false, ExitCode: 0, StartedAt: T0 };
    expect(afterSettle({ name: "web", seen, mayFinish: true }, inspect(done, "on-failure"))).toBe("finished");
    expect(afterSettle({ name: "web", seen, mayFinish: true }, inspect(done, "no"))).toBe("finished");
    expect(afterSettle({ name: "web", seen }, inspect(done, "on-failure"))).toMatchObject({
      state: "exited",
    });
    // Exit 1 under on-failure is restarted by docker: never finished; nor exit 1 under no.
    const failed = { ...done, ExitCode: 1 };
    expect(afterSettle({ name: "web", seen, mayFinish: true }, inspect(failed, "on-failure"))).toMatchObject({
      state: "exited",
    });
    expect(afterSettle({ name: "web", seen, mayFinish: true }, inspect(failed, "no"))).toMatchObject({
      state: "exited",
      reason: `exited with code 1 within ${secs} of its start`,
    });
  });
});

describe("lookUntilSteady: the looks backup and restore take", () => {
  /** web runs on; app runs as another incarnation at the first look (its policy restarted it), then stays. */
  const host = (before?: (call: string, docker: FakeDocker) => void) => {
    const docker: FakeDocker = new FakeDocker({
      containers: [
        FakeDocker.container("id-web", { StartedAt: T0 }, "web"),
        { ...FakeDocker.container("id-app", { StartedAt: T1 }, "app"), RestartCount: 1 },
      ],
      before: (call) => before?.(call, docker),
    });
    return docker;
  };
  const targets = [
    { id: "id-web", name: "web", seen },
    { id: "id-app", name: "app", seen },
  ];

  test("one inspect of them all, then of the one restarted, SETTLE_MS on; each verdict heard before the next look", async () => {
    const docker = host();
    const slept: number[] = [];
    const heard: string[] = [];
    const r = await lookUntilSteady(docker, targets, {
      startTimeoutSec: 60,
      firstAt: Date.now() - 1,
      sleep: async (ms) => void slept.push(ms),
      onSettled: (s) => void heard.push(`${s.container.name} after ${docker.calls.length} looks`),
    });
    expect(docker.calls).toEqual(["inspect id-web id-app", "inspect id-app"]);
    expect(slept).toEqual([0, SETTLE_MS]);
    expect(heard).toEqual(["web after 1 looks", "app after 2 looks"]);
    expect(r.unanswered).toBeUndefined();
    expect(r.settled.map((s) => [s.container.name, s.inspect?.Id])).toEqual([
      ["web", "id-web"],
      ["app", "id-app"],
    ]);
    expect(r.settled[0]?.verdict).toBe("runs");
    const app = r.settled[1]?.verdict;
    expect(app && isRestarted(app) ? app.warning : app).toStartWith(
      "app exited after the start and was restarted 1 time",
    );
  });

  test("a look docker cannot answer ends the looks: unanswered, the ones it was of; the verdicts before kept", async () => {
    const down = new Error("Cannot connect to the Docker daemon");
    const docker = host((call) => {
      if (call === "inspect id-app") throw down;
    });
    const r = await lookUntilSteady(docker, targets, { startTimeoutSec: 60, sleep: async () => {} });
    expect(r.settled.map((s) => s.container.name)).toEqual(["web"]);
    expect(r.unanswered?.containers.map((c) => c.name)).toEqual(["app"]);
    expect(r.unanswered?.error).toBe(down);
  });

  test("a signal during a wait: no look, nothing judged", async () => {
    const docker = host();
    const stop = new AbortController();
    const r = await lookUntilSteady(docker, targets, {
      startTimeoutSec: 60,
      sleep: async () => stop.abort(),
      signal: stop.signal,
    });
    expect(r).toEqual({ settled: [] });
    expect(docker.calls).toEqual([]);
  });
});

import { describe, expect, test } from "bun:test";
import { afterSettle, SETTLE_MS } from "../../../../src/core/containers/settle.ts";
import type { ContainerInspect, ContainerState } from "../../../../src/core/docker/schemas.ts";

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

  test("between two attempts of a crash loop docker reads Running=true: restarting, with the last exit code", () => {
    const loop = { Status: "restarting", Running: true, Restarting: true, ExitCode: 1, StartedAt: T0 };
    expect(afterSettle({ name: "web", seen }, inspect(loop, "always", { RestartCount: 2 }))).toEqual({
      name: "web",
      state: "restarting",
      reason: `exited (code 1) within ${secs} of its start and is being restarted by its restart policy (2 restarts so far)`,
      next: "see why: docker logs web",
    });
  });

  test("running again as another incarnation: restarting, and no exit code (docker reads 0 once it runs)", () => {
    const again = { Status: "running", Running: true, ExitCode: 0, StartedAt: T1 };
    const v = afterSettle({ name: "web", seen }, inspect(again, "unless-stopped", { RestartCount: 1 }));
    expect(v).toMatchObject({ name: "web", state: "restarting" });
    const reason = typeof v === "string" ? "" : v.reason;
    expect(reason).toBe(
      `exited within ${secs} of its start and was started again by its restart policy (1 restart so far): it may be crash-looping`,
    );
    expect(reason).not.toContain("code 0");
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

  test("exit 0 under on-failure is a finished job only for one that may finish (a restore's compose job)", () => {
    const done = { Status: "exited", Running: false, ExitCode: 0, StartedAt: T0 };
    expect(afterSettle({ name: "web", seen, mayFinish: true }, inspect(done, "on-failure"))).toBe("finished");
    // What a backup started again ran before it: down is down.
    expect(afterSettle({ name: "web", seen }, inspect(done, "on-failure"))).toMatchObject({
      state: "exited",
    });
    // Exit 1 under on-failure is restarted by docker: never finished.
    const failed = { ...done, ExitCode: 1 };
    expect(afterSettle({ name: "web", seen, mayFinish: true }, inspect(failed, "on-failure"))).toMatchObject({
      state: "exited",
    });
  });
});

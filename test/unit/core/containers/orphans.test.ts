import { expect, test } from "bun:test";
import { type OrphanProcess, settleOrphans } from "../../../../src/core/containers/orphans.ts";
import { silentLogger } from "../../../../src/core/log.ts";

/** Above the kernel's pid_max default: signals to it reach nobody, as to a process stuck in the kernel. */
const STUCK = 4_194_304 + 11;

test("a dead run's process that even SIGKILL does not end (btrfs stuck in the kernel) is not waited for past the grace", async () => {
  const stuck: OrphanProcess = { pid: STUCK, argv: ["btrfs", "subvolume", "snapshot"], stopping: false };
  const t0 = performance.now();
  await settleOrphans(new Set(["1:2"]), {
    log: silentLogger(),
    graceMs: 200,
    stopWaitMs: 30_000,
    find: () => [stuck],
  });
  expect(performance.now() - t0).toBeLessThan(3_000);
});

test("an in-flight `docker stop` of the dead run is still waited for, up to its bound", async () => {
  const stop: OrphanProcess = { pid: STUCK, argv: ["docker", "stop", "x"], stopping: true };
  const t0 = performance.now();
  await settleOrphans(new Set(["1:2"]), {
    log: silentLogger(),
    graceMs: 200,
    stopWaitMs: 2_500,
    find: () => [stop],
  });
  expect(performance.now() - t0).toBeGreaterThanOrEqual(2_500);
});

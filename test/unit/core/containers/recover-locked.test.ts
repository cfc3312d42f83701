import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { recoverError, recoverUnderLock } from "../../../../src/core/containers/recover-locked.ts";
import { acquireLock } from "../../../../src/core/lock/acquire.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { tempDir } from "../../../helpers/env.ts";

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

function setup() {
  const d = tempDir("kd-recover-locked-");
  dirs.push(d);
  const docker = new FakeDocker();
  const ctx = {
    paths: { lockFile: join(d.path, "run", "kd.lock"), journalDir: join(d.path, "journal") },
    docker,
    log: silentLogger(),
    lifecycle: { signal: new AbortController().signal },
  };
  return { ctx, docker };
}

test("an empty journal: nothing to recover, no docker call, the lock is released", async () => {
  const { ctx, docker } = setup();
  const report = await recoverUnderLock(ctx, { wait: false });
  expect(report).toEqual({
    started: [],
    skipped: [],
    held: [],
    failed: [],
    pendingBefore: 0,
    leftForLiveRuns: 0,
    snapshots: { removed: [], failed: [] },
  });
  expect(docker.calls).toEqual([]);
  expect(recoverError(report)).toBeUndefined();
  const again = await acquireLock(ctx.paths.lockFile, { runId: "next", command: "test" });
  again.release();
});

test("while another run holds the lock: `locked`, and the journal is not touched", async () => {
  const { ctx, docker } = setup();
  const held = await acquireLock(ctx.paths.lockFile, { runId: "backup-1", command: "backup" });
  try {
    await expect(recoverUnderLock(ctx, { wait: false })).rejects.toMatchObject({ code: "locked" });
  } finally {
    held.release();
  }
  expect(docker.calls).toEqual([]);
});

test("a container that could not be started is a restart_failed error naming it", () => {
  const failed = [
    { name: "a", reason: "x" },
    { name: "b", reason: "y" },
  ];
  const snapshots = { removed: [], failed: [] };
  const e = recoverError({
    started: [],
    skipped: [],
    held: [],
    failed,
    pendingBefore: 2,
    leftForLiveRuns: 0,
    snapshots,
  });
  expect(e).toMatchObject({ code: "restart_failed", message: "2 container(s) could not be started: a, b" });
});

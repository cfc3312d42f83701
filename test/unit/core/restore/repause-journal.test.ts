import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { createJournal } from "../../../../src/core/containers/journal.ts";
import type { ContainerInspect } from "../../../../src/core/docker/schemas.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { executeRestore } from "../../../../src/core/restore/execute.ts";
import type { RestorePlan } from "../../../../src/core/restore/types.ts";
import { Lifecycle } from "../../../../src/core/safe-exit.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { config } from "../backup/fixtures.ts";

// A container paused before the restore keeps its journal entry until it is paused again: a restore
// killed in between (SIGKILL) leaves it to `recover`, which says `docker pause NAME`.

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const pausedWeb = (): ContainerInspect =>
  FakeDocker.container(
    "id-web",
    { Status: "paused", Paused: true, StartedAt: "2026-03-01T10:00:00Z" },
    "web",
  );

/** A restore of nothing but the stop and start of `web` (no data, no start step): the order is all. */
function restoreOf(docker: FakeDocker) {
  const t = tempDir("kd-repause-");
  dirs.push(t);
  const journalDir = join(t.path, "journal");
  const plan = {
    request: { what: "volumes", volumes: ["none"] },
    point: { unit: "web" },
    hooks: { pre: "", post: "" },
    stop: [{ id: "id-web", name: "web", paused: true }],
    undo: [],
    volumes: [],
    binds: [],
    networks: [],
    files: [],
    missing: [],
    refusals: [],
    warnings: [],
  } as unknown as RestorePlan;
  const deps = {
    config: config(),
    runner: new FakeRunner(),
    docker,
    kopia: {} as never,
    log: silentLogger(),
    lifecycle: new Lifecycle(),
    hostname: "h1",
    version: "0",
    paths: { journalDir },
  };
  const run = () =>
    executeRestore(deps, plan, { runId: "r1", tempDir: join(t.path, "tmp"), now: new Date() });
  return { run, journal: () => createJournal(journalDir, { warn: () => {} }).entries() };
}

test("started again, its entry stays until the pause; cleared after it", async () => {
  const atPause: unknown[] = [];
  const docker = new FakeDocker({ containers: [pausedWeb()] });
  const r = restoreOf(docker);
  docker.before = (call) => {
    if (call === "pause id-web") atPause.push(...r.journal());
  };
  const result = await r.run();
  expect(result.pausedAgain).toEqual(["web"]);
  expect(docker.calls.filter((c) => /^(stop|start|pause) /.test(c))).toEqual([
    "stop id-web -t30",
    "start id-web",
    "pause id-web",
  ]);
  expect(atPause).toMatchObject([{ containerId: "id-web", paused: true }]);
  expect(r.journal()).toEqual([]);
}, 15_000);

test("runs but unhealthy: paused again, named notRunning, not restartFailed (it is not stopped)", async () => {
  class Unhealthy extends FakeDocker {
    override async waitRunning(ref: string) {
      this.calls.push(`wait ${ref}`);
      const state = { Status: "running", Running: true, Health: { Status: "unhealthy" } };
      return { ok: false as const, running: true, reason: "running but unhealthy after 60s", state };
    }
  }
  const docker = new Unhealthy({ containers: [pausedWeb()] });
  const r = restoreOf(docker);
  const result = await r.run();
  expect(result.pausedAgain).toEqual(["web"]);
  expect(result.notRunning).toMatchObject([{ name: "web", state: "unhealthy" }]);
  expect(result.restartFailed).toBeUndefined();
  expect(r.journal()).toEqual([]);
});

import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { stopUnit } from "../../../../src/core/backup/containers.ts";
import type { BackupDeps } from "../../../../src/core/backup/deps.ts";
import type { ContainerPlan, UnitPlan } from "../../../../src/core/backup/plan-model.ts";
import { createJournal } from "../../../../src/core/containers/journal.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { Lifecycle } from "../../../../src/core/safe-exit.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { tempDir } from "../../../helpers/env.ts";
import { config } from "../backup/fixtures.ts";

// After the first signal no journal entry may be written and no `docker stop` spawned: the signal
// path is already restarting what this run stopped, and a later stop would outlive that restart.
const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const running = (id: string) => FakeDocker.container(id, { StartedAt: "2025-01-01T00:00:00Z" });

const container = (name: string): ContainerPlan => ({
  id: `id-${name}`,
  name,
  action: "stop",
  reason: "running",
  stopTimeout: 5,
  stopTimeoutFrom: "global",
  hasHealthcheck: false,
});

const unit = (): UnitPlan => ({
  name: "shop",
  type: "compose",
  mode: "cold",
  backupId: "b1",
  containers: [container("web"), container("db")],
  stopOrder: ["web", "db"],
  startOrder: ["db", "web"],
  sources: [],
  skipped: [],
  hooks: {},
  estimatedBytes: 0,
});

function setup(before?: (call: string) => void) {
  const docker = new FakeDocker({ containers: [running("id-web"), running("id-db")], before });
  const dir = tempDir("kdt-crash-stop-");
  dirs.push(dir);
  const lifecycle = new Lifecycle(() => {}, { childGraceMs: 10 });
  const journal = createJournal(join(dir.path, "journal"));
  const deps = {
    config: config({}),
    docker,
    log: silentLogger(),
    lifecycle,
    journal,
    hostname: "h",
    version: "9.9.9",
  } as unknown as BackupDeps;
  return { deps, lifecycle, journal, docker };
}

test("a signal during one container's stop: the next one is neither recorded nor stopped", async () => {
  let lc: Lifecycle | undefined;
  let signalled: Promise<void> | undefined;
  const { deps, lifecycle, journal, docker } = setup((call) => {
    if (call.startsWith("stop id-web")) signalled = lc?.onSignal("SIGTERM");
  });
  lc = lifecycle;
  const r = await stopUnit(deps, unit(), "run1");
  await signalled;
  expect(r.stopped.map((s) => s.plan.name)).toEqual(["web"]);
  expect(r.errors).toEqual([
    { phase: "interrupted", item: "db", message: "interrupted before this container was stopped" },
  ]);
  // web: stopped, then started by the signal path (its entry cleared); db: never touched.
  expect(docker.calls).toEqual(["state id-web", "stop id-web -t5", "start id-web"]);
  expect(journal.entries()).toEqual([]);
});

test("a signal while a container is inspected: no journal entry, no stop", async () => {
  let lc: Lifecycle | undefined;
  const { deps, lifecycle, journal, docker } = setup((call) => {
    if (call === "state id-web") void lc?.onSignal("SIGINT");
  });
  lc = lifecycle;
  const recorded: string[] = [];
  const record = journal.record.bind(journal);
  journal.record = (e) => {
    recorded.push(e.containerName);
    record(e);
  };
  const r = await stopUnit(deps, unit(), "run1");
  expect(r.stopped).toEqual([]);
  expect(r.errors.map((e) => `${e.phase} ${e.item}`)).toEqual(["interrupted web"]);
  expect(recorded).toEqual([]);
  expect(docker.calls).toEqual(["state id-web"]);
  expect(lifecycle.pending()).toEqual([]);
});

test("without a signal both containers are recorded before their stop", async () => {
  const { deps, journal, docker } = setup();
  const r = await stopUnit(deps, unit(), "run1");
  expect(r.errors).toEqual([]);
  expect(journal.entries().map((e) => e.containerName)).toEqual(["web", "db"]);
  expect(docker.calls).toEqual(["state id-web", "stop id-web -t5", "state id-db", "stop id-db -t5"]);
});

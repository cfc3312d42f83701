import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { stopUnit } from "../../../src/core/backup/containers.ts";
import type { BackupDeps } from "../../../src/core/backup/deps.ts";
import type { ContainerPlan, UnitPlan } from "../../../src/core/backup/plan-model.ts";
import { createJournal } from "../../../src/core/containers/journal.ts";
import { createDocker } from "../../../src/core/docker/docker.ts";
import { silentLogger } from "../../../src/core/log.ts";
import { Lifecycle } from "../../../src/core/safe-exit.ts";
import { FakeRunner } from "../../fakes/fake-runner.ts";
import { tempDir } from "../../helpers/env.ts";
import { config } from "../backup/fixtures.ts";

// After the first signal no journal entry may be written and no `docker stop` spawned: the signal
// path is already restarting what this run stopped, and a later stop would outlive that restart.
const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const RUNNING = '{"Running":true,"StartedAt":"2025-01-01T00:00:00Z"}';

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
  backupId: "b1",
  containers: [container("web"), container("db")],
  stopOrder: ["web", "db"],
  startOrder: ["db", "web"],
  sources: [],
  skipped: [],
  hooks: {},
  estimatedBytes: 0,
});

function setup(runner: FakeRunner) {
  const dir = tempDir("kdt-crash-stop-");
  dirs.push(dir);
  const lifecycle = new Lifecycle(() => {}, { childGraceMs: 10 });
  const journal = createJournal(join(dir.path, "journal"));
  const deps = {
    config: config({}),
    runner,
    docker: createDocker(runner),
    log: silentLogger(),
    lifecycle,
    journal,
    hostname: "h",
    version: "9.9.9",
  } as unknown as BackupDeps;
  return { deps, lifecycle, journal };
}

const argvs = (r: FakeRunner) =>
  r.calls.map((c) =>
    c.argv
      .slice(0, 2)
      .concat(c.argv.at(-1) ?? "")
      .join(" "),
  );

test("a signal during one container's stop: the next one is neither recorded nor stopped", async () => {
  let lc: Lifecycle | undefined;
  let signalled: Promise<void> | undefined;
  const runner = new FakeRunner([
    { argv: (a) => a[1] === "inspect" && a.at(-1) === "id-web", stdout: RUNNING },
    {
      argv: (a) => a[1] === "stop" && a.at(-1) === "id-web",
      check: () => {
        signalled = lc?.onSignal("SIGTERM");
      },
    },
    { argv: (a) => a[1] === "start" && a.at(-1) === "id-web" },
  ]);
  const { deps, lifecycle, journal } = setup(runner);
  lc = lifecycle;
  const r = await stopUnit(deps, unit(), "run1");
  await signalled;
  expect(r.stopped.map((s) => s.plan.name)).toEqual(["web"]);
  expect(r.errors).toEqual([
    { phase: "interrupted", item: "db", message: "interrupted before this container was stopped" },
  ]);
  // web: stopped, then started by the signal path (its entry cleared); db: never touched.
  expect(argvs(runner)).toEqual(["docker inspect id-web", "docker stop id-web", "docker start id-web"]);
  expect(runner.remaining).toBe(0);
  expect(journal.entries()).toEqual([]);
});

test("a signal while a container is inspected: no journal entry, no stop", async () => {
  let lc: Lifecycle | undefined;
  const runner = new FakeRunner([
    {
      argv: (a) => a[1] === "inspect" && a.at(-1) === "id-web",
      stdout: RUNNING,
      check: () => {
        void lc?.onSignal("SIGINT");
      },
    },
  ]);
  const { deps, lifecycle, journal } = setup(runner);
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
  expect(argvs(runner)).toEqual(["docker inspect id-web"]);
  expect(lifecycle.pending()).toEqual([]);
});

test("without a signal both containers are recorded before their stop", async () => {
  const runner = new FakeRunner([
    { argv: (a) => a[1] === "inspect", stdout: RUNNING },
    { argv: (a) => a[1] === "stop" },
    { argv: (a) => a[1] === "inspect", stdout: RUNNING },
    { argv: (a) => a[1] === "stop" },
  ]);
  const { deps, journal } = setup(runner);
  const r = await stopUnit(deps, unit(), "run1");
  expect(r.errors).toEqual([]);
  expect(journal.entries().map((e) => e.containerName)).toEqual(["web", "db"]);
  expect(argvs(runner)).toEqual([
    "docker inspect id-web",
    "docker stop id-web",
    "docker inspect id-db",
    "docker stop id-db",
  ]);
});

import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { STOP_SETTLE_SECONDS, startUnit, stopUnit } from "../../../../src/core/backup/containers.ts";
import type { BackupDeps } from "../../../../src/core/backup/deps.ts";
import type { ContainerPlan, UnitPlan } from "../../../../src/core/backup/plan-model.ts";
import { createJournal } from "../../../../src/core/containers/journal.ts";
import { ProcessError } from "../../../../src/core/errors.ts";
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

describe("a docker stop that failed (cut off by its timeout) while the daemon still stops the container", () => {
  /** web's stop fails; the daemon finishes it after `exitAfterPolls` state reads (never: Infinity). */
  async function run(exitAfterPolls: number) {
    const web = running("id-web");
    let polls = 0;
    const runningAtStart: boolean[] = [];
    const { deps, journal, docker } = setup((call) => {
      if (call.startsWith("stop id-web")) throw new Error("docker stop timed out");
      if (call === "start id-web") runningAtStart.push(web.State.Running);
      if (call === "state id-web" && ++polls > exitAfterPolls) web.State = { ...web.State, Running: false };
    });
    docker.containers.set("id-web", web);
    (deps as { sleep?: (ms: number) => Promise<void> }).sleep = async () => {};
    const stopped = await stopUnit(deps, unit(), "run1");
    expect(stopped.errors).toEqual([{ phase: "stop", item: "web", message: "docker stop timed out" }]);
    const started = await startUnit(deps, unit(), stopped.stopped);
    return { started, journal, docker, runningAtStart };
  }

  test("the start waits until it has exited, then starts it: never a no-op start on the dying container", async () => {
    const { started, journal, docker, runningAtStart } = await run(3);
    expect(started.restartFailed).toEqual([]);
    expect(docker.calls.filter((c) => c.startsWith("start"))).toEqual(["start id-web"]);
    // Started once the stopped incarnation had exited (a start on the running one is a no-op).
    expect(runningAtStart).toEqual([false]);
    expect(web(docker).State.Running).toBe(true);
    expect(journal.entries()).toEqual([]);
  });

  test("still running after the bound: the start fails (reported), and the journal keeps it for recovery", async () => {
    const { started, journal, docker } = await run(Number.POSITIVE_INFINITY);
    expect(started.restartFailed).toEqual(["web"]);
    expect(started.errors[0]?.message).toContain("is still stopping");
    expect(docker.calls.filter((c) => c.startsWith("start"))).toEqual([]);
    expect(docker.calls.filter((c) => c === "state id-web")).toHaveLength(STOP_SETTLE_SECONDS + 2);
    expect(journal.entries().map((e) => e.containerName)).toEqual(["web"]);
  });
});

test("a docker stop the daemon refused at once (AppArmor): no 60 s wait, not reported as not running again", async () => {
  const refused = new ProcessError({
    argv: ["docker", "stop", "-t", "5", "id-web"],
    exitCode: 1,
    signal: null,
    stderrTail: "Error response from daemon: cannot stop container: web: permission denied",
  });
  const { deps, journal, docker } = setup((call) => {
    if (call.startsWith("stop id-web")) throw refused;
  });
  const stopped = await stopUnit(deps, unit(), "run1");
  expect(stopped.errors[0]?.phase).toBe("stop");
  const started = await startUnit(deps, unit(), stopped.stopped);
  expect(started.restartFailed).toEqual([]);
  // One look before the stop, none to wait for a stop that never began; the start is docker's no-op.
  expect(docker.calls.filter((c) => c === "state id-web")).toHaveLength(1);
  expect(web(docker).State.Running).toBe(true);
  expect(journal.entries()).toEqual([]);
});

const web = (docker: FakeDocker) => {
  const c = [...docker.containers.values()].find((x) => x.Id === "id-web");
  if (!c) throw new Error("no web");
  return c;
};

test("a signal while a docker stop is in flight that then fails: the restart waits for the stop's outcome, never a no-op start", async () => {
  const web = running("id-web");
  let polls = 0;
  const runningAtStart: boolean[] = [];
  const { deps, lifecycle, journal, docker } = setup((call) => {
    if (call === "start id-web") runningAtStart.push(web.State.Running);
    // The daemon finishes the stop a little after the CLI was cut off.
    if (call === "state id-web" && ++polls > 3) web.State = { ...web.State, Running: false };
  });
  docker.containers.set("id-web", web);
  (deps as { sleep?: (ms: number) => Promise<void> }).sleep = async () => {};
  let cutOff: (e: Error) => void = () => {};
  docker.stop = async (ref: string) => {
    docker.calls.push(`stop ${ref}`);
    await new Promise<void>((_, reject) => {
      cutOff = reject;
    });
  };
  const stopping = stopUnit(deps, unit(), "run1");
  while (!docker.calls.includes("stop id-web")) await Bun.sleep(1);
  // The signal path restarts what was stopped while the CLI's stop has not settled yet.
  const signalled = lifecycle.onSignal("SIGTERM");
  await Bun.sleep(5);
  expect(runningAtStart).toEqual([]);
  cutOff(new Error("docker stop timed out"));
  await signalled;
  await stopping;
  expect(runningAtStart).toEqual([false]);
  expect(web.State.Running).toBe(true);
  expect(journal.entries()).toEqual([]);
});

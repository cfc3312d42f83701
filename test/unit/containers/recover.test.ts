import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createJournal, type JournalEntry } from "../../../src/core/containers/journal.ts";
import { recoverContainers, recoverIfNeeded } from "../../../src/core/containers/recover.ts";
import { createDocker } from "../../../src/core/docker/docker.ts";
import { silentLogger } from "../../../src/core/log.ts";
import { FakeRunner } from "../../fakes/fake-runner.ts";
import { tempDir } from "../../helpers/env.ts";

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});
function journalDir(): string {
  const d = tempDir("kd-recover-");
  dirs.push(d);
  return join(d.path, "journal");
}

const DEAD = 111;
const LIVE = 222;
const isAlive = (pid: number) => pid === LIVE;

const entry = (id: string, over: Partial<JournalEntry> = {}): JournalEntry => ({
  runId: "run-1",
  pid: DEAD,
  pidStartTime: 5,
  unit: "app",
  containerId: id,
  containerName: `/app-${id}`,
  stoppedAt: "2025-01-01T00:00:10.000Z",
  startedAt: "2025-01-01T00:00:00.000000001Z",
  ...over,
});

const state = (id: string, over: object = {}) => ({
  Id: `${id}${"0".repeat(10)}`,
  Name: `/app-${id}`,
  State: {
    Running: false,
    Status: "exited",
    StartedAt: "2025-01-01T00:00:00.000000001Z",
    FinishedAt: "2025-01-01T00:00:12.5Z",
    ...over,
  },
});

const inspect = (ids: string[], out: object[], stderr = "", exitCode = 0) => ({
  argv: ["docker", "inspect", "--type", "container", ...ids],
  stdout: JSON.stringify(out),
  stderr,
  exitCode,
});

describe("recoverContainers", () => {
  test("starts exactly the containers a dead run left stopped, newest stop first, and clears them", async () => {
    const journal = createJournal(journalDir());
    journal.record(entry("aaa", { stoppedAt: "2025-01-01T00:00:10Z" }));
    journal.record(entry("bbb", { stoppedAt: "2025-01-01T00:00:11Z" }));
    const runner = new FakeRunner([
      inspect(["aaa", "bbb"], [state("aaa"), state("bbb")]),
      { argv: ["docker", "start", "bbb"] },
      { argv: ["docker", "start", "aaa"] },
    ]);
    const r = await recoverContainers({
      docker: createDocker(runner),
      journal,
      log: silentLogger(),
      isAlive,
    });
    expect(r).toEqual({ started: ["app-bbb", "app-aaa"], skipped: [], failed: [] });
    expect(runner.remaining).toBe(0);
    expect(journal.entries()).toEqual([]);
  });

  test("removed, restarted-by-someone, running and pre-stopped containers are cleared, not started", async () => {
    const journal = createJournal(journalDir());
    journal.record(entry("gone", { stoppedAt: "2025-01-01T00:00:07Z" }));
    journal.record(entry("restarted", { stoppedAt: "2025-01-01T00:00:08Z" }));
    journal.record(entry("running", { stoppedAt: "2025-01-01T00:00:09Z" }));
    journal.record(entry("early", { stoppedAt: "2025-01-02T00:00:00Z" }));
    const runner = new FakeRunner([
      inspect(
        ["gone", "restarted", "running", "early"],
        [
          state("restarted", { StartedAt: "2025-01-01T00:05:00Z", FinishedAt: "2025-01-01T00:06:00Z" }),
          state("running", { Running: true, Status: "running" }),
          state("early"),
        ],
        "Error response from daemon: No such container: gone\n",
        1,
      ),
    ]);
    const r = await recoverContainers({
      docker: createDocker(runner),
      journal,
      log: silentLogger(),
      isAlive,
    });
    expect(r.started).toEqual([]);
    expect(Object.fromEntries(r.skipped.map((s) => [s.name, s.reason]))).toEqual({
      "app-gone": "removed since it was stopped",
      "app-restarted": "started by someone else since it was stopped",
      "app-running": "already running",
      "app-early": "it had stopped before the run recorded it",
    });
    expect(journal.entries()).toEqual([]);
  });

  test("entries of a live run are left alone, with no docker call at all", async () => {
    const journal = createJournal(journalDir());
    journal.record(entry("x", { pid: LIVE }));
    const runner = new FakeRunner([]);
    const r = await recoverContainers({
      docker: createDocker(runner),
      journal,
      log: silentLogger(),
      isAlive,
    });
    expect(r).toEqual({ started: [], skipped: [], failed: [] });
    expect(runner.calls).toEqual([]);
    expect(journal.entries()).toHaveLength(1);
  });

  test("a pid that now belongs to another process (start time differs) counts as dead", async () => {
    const journal = createJournal(journalDir());
    journal.record(entry("x", { pid: process.pid, pidStartTime: 1 }));
    const runner = new FakeRunner([inspect(["x"], [state("x")]), { argv: ["docker", "start", "x"] }]);
    const r = await recoverContainers({ docker: createDocker(runner), journal, log: silentLogger() });
    expect(r.started).toEqual(["app-x"]);
  });

  test("a failed start keeps the entry for the next recovery", async () => {
    const journal = createJournal(journalDir());
    journal.record(entry("x"));
    const runner = new FakeRunner([
      inspect(["x"], [state("x")]),
      { argv: ["docker", "start", "x"], exitCode: 1, stderr: "port is already allocated" },
    ]);
    const r = await recoverContainers({
      docker: createDocker(runner),
      journal,
      log: silentLogger(),
      isAlive,
    });
    expect(r.failed).toEqual([{ name: "app-x", reason: "port is already allocated" }]);
    expect(journal.entries()).toHaveLength(1);
  });

  test("a daemon that does not answer throws and keeps every entry", async () => {
    const journal = createJournal(journalDir());
    journal.record(entry("x"));
    const runner = new FakeRunner([
      inspect(["x"], [], "Cannot connect to the Docker daemon at unix:///var/run/docker.sock.\n", 1),
    ]);
    const err = await recoverContainers({
      docker: createDocker(runner),
      journal,
      log: silentLogger(),
      isAlive,
    }).catch((e) => e);
    expect(err.code).toBe("restart_failed");
    expect(journal.entries()).toHaveLength(1);
  });
});

describe("recoverIfNeeded", () => {
  test("an empty or missing journal costs no docker call", async () => {
    const runner = new FakeRunner([]);
    const ctx = { paths: { journalDir: journalDir() }, docker: createDocker(runner), log: silentLogger() };
    expect(await recoverIfNeeded(ctx)).toBeUndefined();
    expect(runner.calls).toEqual([]);
  });

  test("with entries of a dead run, it recovers", async () => {
    const dir = journalDir();
    createJournal(dir).record(entry("x", { pid: 2 ** 22 + 1 }));
    const runner = new FakeRunner([inspect(["x"], [state("x")]), { argv: ["docker", "start", "x"] }]);
    const r = await recoverIfNeeded({
      paths: { journalDir: dir },
      docker: createDocker(runner),
      log: silentLogger(),
    });
    expect(r?.started).toEqual(["app-x"]);
  });
});

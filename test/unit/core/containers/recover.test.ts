import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createJournal, type JournalEntry } from "../../../../src/core/containers/journal.ts";
import { recoverContainers, recoverIfNeeded } from "../../../../src/core/containers/recover.ts";
import { AppError, ProcessError } from "../../../../src/core/errors.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { tempDir } from "../../../helpers/env.ts";

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

/** A container as the dead run left it: stopped after it recorded the entry, not started since. */
const state = (id: string, over: object = {}) =>
  FakeDocker.container(
    `${id}${"0".repeat(10)}`,
    {
      Running: false,
      Status: "exited",
      StartedAt: "2025-01-01T00:00:00.000000001Z",
      FinishedAt: "2025-01-01T00:00:12.5Z",
      ...over,
    },
    `app-${id}`,
  );

const startFails = (stderr: string) => (call: string) => {
  if (call.startsWith("start "))
    throw new ProcessError({ argv: ["docker", "start"], exitCode: 1, signal: null, stderrTail: stderr });
};

describe("recoverContainers", () => {
  test("starts exactly the containers a dead run left stopped, newest stop first, and clears them", async () => {
    const journal = createJournal(journalDir());
    journal.record(entry("aaa", { stoppedAt: "2025-01-01T00:00:10Z" }));
    journal.record(entry("bbb", { stoppedAt: "2025-01-01T00:00:11Z" }));
    const docker = new FakeDocker({ containers: [state("aaa"), state("bbb")] });
    const r = await recoverContainers({ docker, journal, log: silentLogger(), isAlive });
    expect(r).toEqual({ started: ["app-bbb", "app-aaa"], skipped: [], held: [], failed: [] });
    expect(docker.calls).toEqual(["inspect aaa bbb", "start bbb", "start aaa"]);
    expect(journal.entries()).toEqual([]);
  });

  test("removed, restarted-by-someone, running and pre-stopped containers are cleared, not started", async () => {
    const journal = createJournal(journalDir());
    journal.record(entry("gone", { stoppedAt: "2025-01-01T00:00:07Z" }));
    journal.record(entry("restarted", { stoppedAt: "2025-01-01T00:00:08Z" }));
    journal.record(entry("running", { stoppedAt: "2025-01-01T00:00:09Z" }));
    journal.record(entry("early", { stoppedAt: "2025-01-02T00:00:00Z" }));
    const docker = new FakeDocker({
      containers: [
        state("restarted", { StartedAt: "2025-01-01T00:05:00Z", FinishedAt: "2025-01-01T00:06:00Z" }),
        state("running", { Running: true, Status: "running" }),
        state("early"),
      ],
    });
    const r = await recoverContainers({ docker, journal, log: silentLogger(), isAlive });
    expect(r.started).toEqual([]);
    expect(docker.calls).toEqual(["inspect gone restarted running early"]);
    expect(Object.fromEntries(r.skipped.map((s) => [s.name, s.reason]))).toEqual({
      "app-gone": "removed since it was stopped",
      "app-restarted": "started by someone else since it was stopped",
      "app-running": "already running",
      "app-early": "it had stopped before the run recorded it",
    });
    expect(journal.entries()).toEqual([]);
  });

  test("paused before, started again by a run killed before it paused it: left running, `docker pause NAME` said", async () => {
    const journal = createJournal(journalDir());
    journal.record(entry("web", { paused: true }));
    journal.record(entry("done", { paused: true, stoppedAt: "2025-01-01T00:00:11Z" }));
    const warnings: string[] = [];
    const log = silentLogger();
    log.warn = ((m: unknown) => warnings.push(String(m))) as unknown as typeof log.warn;
    const again = { Running: true, Status: "running", StartedAt: "2025-01-01T00:01:00Z" };
    const docker = new FakeDocker({
      containers: [state("web", again), state("done", { ...again, Paused: true, Status: "paused" })],
    });
    const r = await recoverContainers({ docker, journal, log, isAlive });
    expect(docker.calls).toEqual(["inspect web done"]);
    expect(r.skipped).toEqual([
      { name: "app-done", reason: "already running" },
      {
        name: "app-web",
        reason:
          "already running; it was paused before run run-1 stopped it: `docker pause app-web` pauses it again",
      },
    ]);
    expect(warnings).toEqual([
      "app-web already running; it was paused before run run-1 stopped it: `docker pause app-web` pauses it again",
    ]);
    expect(journal.entries()).toEqual([]);
  });

  test("held by a restore that was replacing its data: never started, named every time; forgotten once someone starts it", async () => {
    const journal = createJournal(journalDir());
    const hold = "restore r9 of app was replacing its data when it ended";
    journal.record(entry("db", { hold }));
    journal.record(entry("web", { stoppedAt: "2025-01-01T00:00:11Z" }));
    const errors: string[] = [];
    const log = silentLogger();
    log.error = ((m: unknown) => errors.push(String(m))) as unknown as typeof log.error;
    const docker = new FakeDocker({ containers: [state("db"), state("web")] });
    const r = await recoverContainers({ docker, journal, log, isAlive });
    expect(r).toEqual({
      started: ["app-web"],
      skipped: [],
      held: [{ name: "app-db", reason: hold }],
      failed: [],
    });
    expect(docker.calls).toEqual(["inspect db web", "start web"]);
    expect(errors).toEqual([`app-db stays stopped: ${hold}`]);
    expect(journal.entries().map((e) => e.containerId)).toEqual(["db"]);
    // The next recovery says it again; once the admin started it, the entry goes.
    expect((await recoverContainers({ docker, journal, log, isAlive })).held).toHaveLength(1);
    const started = new FakeDocker({
      containers: [state("db", { Running: true, StartedAt: "2025-01-02T00:00:00Z" })],
    });
    const after = await recoverContainers({ docker: started, journal, log, isAlive });
    expect(after.held).toEqual([]);
    expect(journal.entries()).toEqual([]);
    // Someone, or docker's restart policy at boot, started it: the warning goes out once more, not silently.
    expect(errors.at(-1)).toBe(`app-db: already running, though ${hold}`);
  });

  test("entries of a live run are left alone, with no docker call at all", async () => {
    const journal = createJournal(journalDir());
    journal.record(entry("x", { pid: LIVE }));
    const docker = new FakeDocker();
    const r = await recoverContainers({ docker, journal, log: silentLogger(), isAlive });
    expect(r).toEqual({ started: [], skipped: [], held: [], failed: [] });
    expect(docker.calls).toEqual([]);
    expect(journal.entries()).toHaveLength(1);
  });

  test("a dead run whose lock was taken over: what it left running is looked for, though it stopped nothing", async () => {
    const journal = createJournal(journalDir());
    const docker = new FakeDocker();
    const asked: string[][] = [];
    const findOrphans = (markers: ReadonlySet<string>) => {
      asked.push([...markers]);
      return [];
    };
    const log = silentLogger();
    const deadRun = { pid: DEAD, processStartTime: 5 };
    const r = await recoverContainers({ docker, journal, log, isAlive, findOrphans, deadRun });
    expect(r).toEqual({ started: [], skipped: [], held: [], failed: [] });
    expect(asked).toEqual([["111:5"]]);
    expect(docker.calls).toEqual([]);
    // A holder that lives (a lock that was not stale after all) is never signalled.
    await recoverContainers({
      docker,
      journal,
      log,
      isAlive,
      findOrphans,
      deadRun: { pid: LIVE, processStartTime: 1 },
    });
    expect(asked).toHaveLength(1);
  });

  test("a pid that now belongs to another process (start time differs) counts as dead", async () => {
    const journal = createJournal(journalDir());
    journal.record(entry("x", { pid: process.pid, pidStartTime: 1 }));
    const docker = new FakeDocker({ containers: [state("x")] });
    const r = await recoverContainers({ docker, journal, log: silentLogger() });
    expect(r.started).toEqual(["app-x"]);
  });

  test("a failed start keeps the entry for the next recovery", async () => {
    const journal = createJournal(journalDir());
    journal.record(entry("x"));
    const docker = new FakeDocker({
      containers: [state("x")],
      before: startFails("port is already allocated\n"),
    });
    const r = await recoverContainers({ docker, journal, log: silentLogger(), isAlive });
    expect(r.failed).toEqual([{ name: "app-x", reason: "port is already allocated" }]);
    expect(journal.entries()).toHaveLength(1);
  });

  test("a daemon that does not answer throws and keeps every entry", async () => {
    const journal = createJournal(journalDir());
    journal.record(entry("x"));
    const docker = new FakeDocker({
      before: () => {
        throw new AppError("process_failed", "`docker inspect` failed: Cannot connect to the Docker daemon");
      },
    });
    const err = await recoverContainers({ docker, journal, log: silentLogger(), isAlive }).catch((e) => e);
    expect(err.code).toBe("restart_failed");
    expect(err.message).toContain("Cannot connect to the Docker daemon");
    expect(journal.entries()).toHaveLength(1);
  });
});

describe("recoverIfNeeded", () => {
  test("an empty or missing journal costs no docker call", async () => {
    const docker = new FakeDocker();
    const ctx = { paths: { journalDir: journalDir() }, docker, log: silentLogger() };
    expect(await recoverIfNeeded(ctx)).toBeUndefined();
    expect(docker.calls).toEqual([]);
  });

  test("with entries of a dead run, it recovers", async () => {
    const dir = journalDir();
    createJournal(dir).record(entry("x", { pid: 2 ** 22 + 1 }));
    const docker = new FakeDocker({ containers: [state("x")] });
    const r = await recoverIfNeeded({ paths: { journalDir: dir }, docker, log: silentLogger() });
    expect(r?.started).toEqual(["app-x"]);
  });
});

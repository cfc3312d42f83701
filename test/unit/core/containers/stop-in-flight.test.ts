import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createJournal, type JournalEntry } from "../../../../src/core/containers/journal.ts";
import { recoverContainers } from "../../../../src/core/containers/recover.ts";
import { STOP_GRACE_SECONDS, stopDeadline } from "../../../../src/core/containers/stop-in-flight.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { tempDir } from "../../../helpers/env.ts";

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});
function journalDir(): string {
  const d = tempDir("kd-inflight-");
  dirs.push(d);
  return join(d.path, "journal");
}

const STOPPED_AT = Date.parse("2026-01-01T00:00:10.000Z");
const STARTED_AT = "2026-01-01T00:00:00.000000001Z";
const isAlive = () => false;

const entry = (over: Partial<JournalEntry> = {}): JournalEntry => ({
  runId: "run-1",
  pid: 111,
  pidStartTime: 5,
  unit: "app",
  containerId: "web",
  containerName: "/app-web",
  stoppedAt: new Date(STOPPED_AT).toISOString(),
  startedAt: STARTED_AT,
  stopTimeout: 10,
  ...over,
});

/** Still running, as the incarnation the dead run was stopping. */
const running = (over: object = {}) =>
  FakeDocker.container(
    `web${"0".repeat(10)}`,
    { Running: true, Status: "running", StartedAt: STARTED_AT, ...over },
    "app-web",
  );

/** A wall clock that `sleep` moves on, starting `afterStop` ms after the stop was recorded. */
function clock(afterStop: number) {
  let now = STOPPED_AT + afterStop;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms: number) => {
      slept.push(ms);
      now += ms;
    },
  };
}

/** The daemon's stop completing on the `n`th inspect after the first (SIGKILL: exit 137). */
function exitsAfter(docker: FakeDocker, n: number, at: () => number): void {
  let inspects = 0;
  docker.before = (call) => {
    if (!call.startsWith("inspect ") || ++inspects <= n) return;
    const c = [...docker.containers.values()][0];
    if (c?.State.Running)
      c.State = {
        ...c.State,
        Running: false,
        Status: "exited",
        ExitCode: 137,
        FinishedAt: new Date(at()).toISOString(),
      };
  };
}

describe("recoverContainers: a dead run's docker stop still under way", () => {
  test("the same incarnation still running, the stop young: waited for until it exits, then started", async () => {
    const journal = createJournal(journalDir());
    journal.record(entry());
    const docker = new FakeDocker({ containers: [running()] });
    const t = clock(500);
    exitsAfter(docker, 3, t.now);
    const r = await recoverContainers({ docker, journal, log: silentLogger(), isAlive, inFlight: t });
    expect(r).toEqual({ started: ["app-web"], skipped: [], held: [], failed: [] });
    expect(docker.calls).toEqual(["inspect web", "inspect web", "inspect web", "inspect web", "start web"]);
    expect(t.slept).toEqual([1000, 1000, 1000]);
    expect(journal.entries()).toEqual([]);
  });

  test("still running at the bound (the stop never happened): left alone and cleared, as before", async () => {
    const journal = createJournal(journalDir());
    journal.record(entry());
    const docker = new FakeDocker({ containers: [running()] });
    const t = clock(500);
    const r = await recoverContainers({ docker, journal, log: silentLogger(), isAlive, inFlight: t });
    expect(r.skipped).toEqual([{ name: "app-web", reason: "already running" }]);
    expect(r.started).toEqual([]);
    // Waited exactly until the record + timeout + grace, and no longer.
    expect(t.slept.reduce((a, b) => a + b, 0)).toBe((10 + STOP_GRACE_SECONDS) * 1000 - 500);
    expect(docker.calls.filter((c) => c.startsWith("start"))).toEqual([]);
    expect(journal.entries()).toEqual([]);
  });

  test("running as a newer incarnation (someone started it after our stop): no wait, left alone", async () => {
    const journal = createJournal(journalDir());
    journal.record(entry());
    const docker = new FakeDocker({ containers: [running({ StartedAt: "2026-01-01T00:00:11Z" })] });
    const t = clock(2000);
    const r = await recoverContainers({ docker, journal, log: silentLogger(), isAlive, inFlight: t });
    expect(r.skipped).toEqual([{ name: "app-web", reason: "already running" }]);
    expect(t.slept).toEqual([]);
    expect(docker.calls).toEqual(["inspect web"]);
  });

  test("an entry older than its stop timeout plus the grace: no wait", async () => {
    const journal = createJournal(journalDir());
    journal.record(entry());
    const docker = new FakeDocker({ containers: [running()] });
    const t = clock((10 + STOP_GRACE_SECONDS) * 1000 + 1);
    const r = await recoverContainers({ docker, journal, log: silentLogger(), isAlive, inFlight: t });
    expect(r.skipped).toEqual([{ name: "app-web", reason: "already running" }]);
    expect(t.slept).toEqual([]);
    expect(docker.calls).toEqual(["inspect web"]);
  });

  test("a held entry (a restore's) is not waited for: the hold path is unchanged", async () => {
    const journal = createJournal(journalDir());
    journal.record(entry({ hold: "restore r9 of app was replacing its data when it ended" }));
    const docker = new FakeDocker({ containers: [running()] });
    const t = clock(500);
    await recoverContainers({ docker, journal, log: silentLogger(), isAlive, inFlight: t });
    expect(t.slept).toEqual([]);
    expect(docker.calls).toEqual(["inspect web"]);
  });

  test("removed while it was waited for: said so, cleared", async () => {
    const journal = createJournal(journalDir());
    journal.record(entry());
    const docker = new FakeDocker({ containers: [running()] });
    const t = clock(500);
    let inspects = 0;
    docker.before = (call) => {
      if (call.startsWith("inspect ") && ++inspects === 2) docker.containers.clear();
    };
    const r = await recoverContainers({ docker, journal, log: silentLogger(), isAlive, inFlight: t });
    expect(r.skipped).toEqual([{ name: "app-web", reason: "removed since it was stopped" }]);
    expect(journal.entries()).toEqual([]);
  });
});

describe("stopDeadline", () => {
  const c = running();
  test("an entry without its own stop timeout (older, or a restore's) takes the config's, else 30 s", () => {
    const old = entry({ stopTimeout: undefined });
    const at45 = { now: () => STOPPED_AT + 45_000 };
    expect(stopDeadline(old, c, { ...at45, stopTimeoutSec: 10 })).toBeUndefined();
    expect(stopDeadline(old, c, { ...at45, stopTimeoutSec: 20 })).toBe(STOPPED_AT + 50_000);
    expect(stopDeadline(old, c, at45)).toBe(STOPPED_AT + 60_000);
    // Its own, when recorded, wins over the config's.
    expect(stopDeadline(entry({ stopTimeout: 60 }), c, { ...at45, stopTimeoutSec: 10 })).toBe(
      STOPPED_AT + 90_000,
    );
  });

  test("a stopped container, an unreadable record: nothing to wait for", () => {
    const now = { now: () => STOPPED_AT + 1000 };
    expect(stopDeadline(entry(), running({ Running: false }), now)).toBeUndefined();
    expect(stopDeadline(entry({ stoppedAt: "garbage" }), c, now)).toBeUndefined();
  });

  test("a record in the future (the clock was set back) waits no longer than a stop issued now", () => {
    expect(stopDeadline(entry(), c, { now: () => STOPPED_AT - 3_600_000 })).toBe(
      STOPPED_AT - 3_600_000 + (10 + STOP_GRACE_SECONDS) * 1000,
    );
  });

  test("an entry written before stopTimeout was recorded still loads", () => {
    const journal = createJournal(journalDir());
    const { stopTimeout: _, ...older } = entry();
    journal.record(older);
    expect(journal.entries()[0]?.stopTimeout).toBeUndefined();
  });
});

import { afterEach, expect, test } from "bun:test";
import { readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { containersCheck } from "../../../../src/core/containers/doctor-check.ts";
import { createJournal, type JournalEntry } from "../../../../src/core/containers/journal.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { tempDir } from "../../../helpers/env.ts";

// doctor said healthy (exit 0) while a container a backup had stopped (restart_failed, or a kill -9 in
// its cold window) was still down: it read no restart journal.
const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});
function journalDir(): string {
  const d = tempDir("kd-doctor-journal-");
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
const container = (id: string, running: boolean) =>
  FakeDocker.container(
    `${id}${"0".repeat(10)}`,
    { Running: running, Status: running ? "running" : "exited" },
    `app-${id}`,
  );

/** The journal's files with their mtimes: doctor must change none of them. */
const snapshotOf = (dir: string) => readdirSync(dir).map((n) => `${n}@${statSync(join(dir, n)).mtimeMs}`);

test("no journal, or an empty one: ok", async () => {
  const dir = journalDir();
  expect(await containersCheck(dir, new FakeDocker(), isAlive)).toMatchObject({
    id: "containers",
    status: "ok",
  });
});

test("a container a dead run left stopped: fail, naming it, hinting recover; nothing written", async () => {
  const dir = journalDir();
  createJournal(dir).record(entry("a1"));
  const before = snapshotOf(dir);
  const docker = new FakeDocker({ containers: [container("a1", false)] });
  const c = await containersCheck(dir, docker, isAlive);
  expect(c.status).toBe("fail");
  expect(c.detail).toContain("app-a1 (unit app, run run-1)");
  expect(c.hint).toContain("kopi-docka recover");
  expect(docker.calls.every((call) => call.startsWith("inspect"))).toBe(true);
  expect(snapshotOf(dir)).toEqual(before);
});

test("a held container: fail, saying what the hold means and how it is released", async () => {
  const dir = journalDir();
  createJournal(dir).record(entry("h1", { hold: "a restore was replacing its data (undo point u-1)" }));
  const c = await containersCheck(dir, new FakeDocker({ containers: [container("h1", false)] }), isAlive);
  expect(c.status).toBe("fail");
  expect(c.detail).toContain(
    "held stopped by a restore that did not finish: app-h1 (a restore was replacing",
  );
  expect(c.hint).toContain("half-restored");
  expect(c.hint).toContain("docker start app-h1");
  expect(c.hint).toContain("releases the hold");
  expect(c.hint).not.toContain("kopi-docka recover` to start");
});

test("a running run's cold window, a container running again, one removed: ok", async () => {
  const dir = journalDir();
  const j = createJournal(dir);
  j.record(entry("l1", { pid: LIVE, runId: "live" }));
  j.record(entry("r1", { runId: "r" }));
  j.record(entry("g1", { runId: "g" }));
  const docker = new FakeDocker({ containers: [container("l1", false), container("r1", true)] });
  const c = await containersCheck(dir, docker, isAlive);
  expect(c).toMatchObject({ status: "ok" });
  expect(c.detail).toContain("1 stopped now by a running kopi-docka");
});

test("docker cannot answer: the journal alone names them", async () => {
  const dir = journalDir();
  createJournal(dir).record(entry("a1"));
  const docker = new FakeDocker({
    before: () => {
      throw new Error("Cannot connect to the Docker daemon");
    },
  });
  expect((await containersCheck(dir, docker, isAlive)).status).toBe("fail");
});

test("an entry that is not valid: warn, left where it is", async () => {
  const dir = journalDir();
  createJournal(dir).record(entry("a1", { pid: LIVE }));
  writeFileSync(join(dir, "bad.json"), "{");
  const before = snapshotOf(dir);
  const c = await containersCheck(dir, new FakeDocker(), isAlive);
  expect(c.status).toBe("warn");
  expect(c.detail).toContain("bad.json");
  expect(snapshotOf(dir)).toEqual(before);
});

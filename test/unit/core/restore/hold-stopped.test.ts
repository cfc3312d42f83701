import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { heldContainers } from "../../../../src/core/backup/held.ts";
import { containersCheck } from "../../../../src/core/containers/doctor-check.ts";
import { createJournal } from "../../../../src/core/containers/journal.ts";
import { recoverContainers } from "../../../../src/core/containers/recover.ts";
import type { ContainerInspect } from "../../../../src/core/docker/docker.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { restoreStops } from "../../../../src/core/restore/stop-journal.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { tempDir } from "../../../helpers/env.ts";

// A container stopped before an in-place restore (crashed, or stopped by hand) that uses the data
// being replaced: nothing of the restore stops it, yet a kill mid-data leaves it on half-restored
// data, and dockerd starts an `always` one at its own start. So it is held like the ones it stopped.

const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});
function journalDir(): string {
  const d = tempDir("kdt-holdstopped-");
  dirs.push(d);
  return join(d.path, "journal");
}
/** Stopped an hour before the restore, with restart policy `always`. */
function stopped(id: string): ContainerInspect {
  const c = FakeDocker.container(
    id,
    {
      Running: false,
      StartedAt: "2026-11-30T00:00:00Z",
      FinishedAt: "2026-11-30T23:00:00Z",
    },
    `shop-${id}`,
  );
  return { ...c, HostConfig: { RestartPolicy: { Name: "always", MaximumRetryCount: 0 } } };
}
const policy = (d: FakeDocker, id: string) => d.containers.get(id)?.HostConfig?.RestartPolicy?.Name;
const now = () => new Date("2026-12-01T00:00:00Z");

test("hold: a stopped container using the restored data gets an entry of its own, held, its policy saved then set to no", async () => {
  const dir = journalDir();
  const docker = new FakeDocker({ containers: [stopped("db"), FakeDocker.container("web")] });
  const stops = restoreStops(
    { docker, log: silentLogger(), paths: { journalDir: dir } },
    { runId: "r1", unit: "shop", now },
  );
  await stops.hold("shop@r1", ["db"]);
  const entries = createJournal(dir).entries();
  expect(entries.map((e) => [e.containerId, e.containerName, e.alreadyStopped, e.heldPolicy?.name])).toEqual([
    ["db", "/shop-db", true, "always"],
  ]);
  expect(entries[0]?.hold).toContain("may hold half-restored data");
  expect(entries[0]?.hold).not.toContain("then start it");
  expect(policy(docker, "db")).toBe("no");
  // Whole: the policy comes back, the entry goes, and nothing starts it.
  await stops.restored();
  expect(createJournal(dir).entries()).toEqual([]);
  expect(policy(docker, "db")).toBe("always");
  expect(docker.containers.get("db")?.State.Running).toBe(false);
});

test("recover keeps such a hold however long ago it stopped, and once the hold is gone clears it without starting it", async () => {
  const dir = journalDir();
  const docker = new FakeDocker({ containers: [stopped("db")] });
  const stops = restoreStops(
    { docker, log: silentLogger(), paths: { journalDir: dir } },
    { runId: "r1", unit: "shop", now },
  );
  await stops.hold(undefined, ["db"]);
  const journal = createJournal(dir);
  // The restore was killed mid-data: its pid is gone.
  const dead = () => false;
  const first = await recoverContainers({ docker, journal, log: silentLogger(), isAlive: dead });
  expect(first.held.map((h) => h.name)).toEqual(["shop-db"]);
  expect(journal.entries()).toHaveLength(1);
  const check = await containersCheck(dir, docker, dead);
  expect(check.status).toBe("fail");
  expect(check.detail).toContain("shop-db (restore r1 of shop was replacing the data it uses");
  expect(heldContainers(dir, () => {}).map((h) => h.name)).toEqual(["shop-db"]);
  // Its hold ended while its policy could not be put back: the entry stays, no longer held.
  const [e] = journal.entries();
  if (!e) throw new Error("no entry");
  const { hold: _, ...free } = e;
  journal.record(free);
  const second = await recoverContainers({ docker, journal, log: silentLogger(), isAlive: dead });
  expect(second.started).toEqual([]);
  expect(second.skipped.map((s) => s.name)).toEqual(["shop-db"]);
  expect(docker.containers.get("db")?.State.Running).toBe(false);
  expect(policy(docker, "db")).toBe("always");
  expect(journal.entries()).toEqual([]);
});

test("hold: a stopped user an earlier restore holds already keeps that hold, with no second entry", async () => {
  const dir = journalDir();
  const journal = createJournal(dir);
  journal.record({
    runId: "r0",
    pid: 2 ** 22 + 7,
    unit: "shop",
    containerId: "db",
    containerName: "/shop-db",
    stoppedAt: "2026-11-30T12:00:00Z",
    startedAt: "2026-11-30T00:00:00Z",
    hold: "restore r0 of shop",
    heldPolicy: { name: "always", maximumRetryCount: 0 },
  });
  const docker = new FakeDocker({ containers: [stopped("db")] });
  await docker.setRestartPolicy("db", "no");
  const stops = restoreStops(
    { docker, log: silentLogger(), paths: { journalDir: dir } },
    { runId: "r1", unit: "shop", now },
  );
  await stops.hold(undefined, ["db"]);
  expect(journal.entries().map((e) => [e.runId, e.hold])).toEqual([["r0", "restore r0 of shop"]]);
});

import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { createJournal } from "../../../../src/core/containers/journal.ts";
import type { Docker } from "../../../../src/core/docker/docker.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { restoreStops } from "../../../../src/core/restore/stop-journal.ts";
import { tempDir } from "../../../helpers/env.ts";

const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

test("settleHeld frees only what this restore replaced: a copy's held container, or one using what the point lacks, stays held", async () => {
  const t = tempDir("kdt-stopjournal-");
  dirs.push(t);
  const journalDir = join(t.path, "journal");
  const journal = createJournal(journalDir, { warn: () => {} });
  // An earlier restore of unit shop, killed while replacing data (a pid no process has).
  const held = (id: string, name: string) => ({
    runId: "restore-old",
    pid: 2 ** 22 + 7,
    unit: "shop",
    containerId: id,
    containerName: name,
    stoppedAt: "2026-12-01T00:00:00Z",
    startedAt: "2026-11-30T00:00:00Z",
    hold: "restore restore-old of shop was replacing its data",
  });
  journal.record(held("c-db", "shop-db-1"));
  journal.record(held("c-copy", "shopcopy-db-1"));
  const stops = restoreStops(
    { docker: {} as Docker, log: silentLogger(), paths: { journalDir } },
    { runId: "restore-new", unit: "shop" },
  );
  expect(await stops.settleHeld(["c-db", "c-web"])).toEqual(["shop-db-1"]);
  expect(journal.entries().map((e) => e.containerId)).toEqual(["c-copy"]);
});

test("hold also holds a dead backup's entry for a container using the restored data, which recovery would start", async () => {
  const t = tempDir("kdt-stopjournal-");
  dirs.push(t);
  const journalDir = join(t.path, "journal");
  const journal = createJournal(journalDir, { warn: () => {} });
  // A backup killed with these stopped, whose start failed since (say a bind source was missing).
  const stopped = (id: string) => ({
    runId: "backup-dead",
    pid: 2 ** 22 + 7,
    unit: "shop",
    containerId: id,
    containerName: id,
    stoppedAt: "2026-12-01T00:00:00Z",
    startedAt: "2026-11-30T00:00:00Z",
  });
  journal.record(stopped("c-db"));
  journal.record(stopped("c-other"));
  const stops = restoreStops(
    { docker: {} as Docker, log: silentLogger(), paths: { journalDir } },
    { runId: "restore-new", unit: "shop" },
  );
  await stops.hold("shop@restore-new", ["c-db"]);
  const byId = Object.fromEntries(journal.entries().map((e) => [e.containerId, e.hold]));
  // Before: c-db stayed startable, and the next recovery started it on half-restored data.
  expect(byId["c-db"]).toContain("may hold half-restored data");
  expect(byId["c-other"]).toBeUndefined();
});

test("release: a restored container that did not start stays in the journal for recovery, no longer held", async () => {
  const t = tempDir("kdt-stopjournal-");
  dirs.push(t);
  const journalDir = join(t.path, "journal");
  const docker = {
    containerState: async () => ({ Status: "running", Running: true, StartedAt: "2026-12-01T00:00:00Z" }),
  } as unknown as Docker;
  const stops = restoreStops(
    { docker, log: silentLogger(), paths: { journalDir } },
    { runId: "restore-new", unit: "shop" },
  );
  await stops.stopping({ id: "c-web", name: "shop-web-1" });
  await stops.stopping({ id: "c-db", name: "shop-db-1" });
  await stops.hold("shop@restore-new");
  await stops.release("c-web");
  await stops.done("c-db");
  const left = createJournal(journalDir, { warn: () => {} }).entries();
  expect(left.map((e) => [e.containerId, e.hold])).toEqual([["c-web", undefined]]);
});

test("a paused container's stop is recorded as paused, so a recovery that starts it says so", async () => {
  const t = tempDir("kdt-stopjournal-");
  dirs.push(t);
  const journalDir = join(t.path, "journal");
  const state = { Status: "paused", Running: true, Paused: true, StartedAt: "2026-11-30T00:00:00Z" };
  const docker = { containerState: async () => state } as unknown as Docker;
  const stops = restoreStops(
    { docker, log: silentLogger(), paths: { journalDir } },
    { runId: "restore-new", unit: "shop" },
  );
  await stops.stopping({ id: "c-db", name: "shop-db-1" });
  const journal = createJournal(journalDir, { warn: () => {} });
  expect(journal.entries()).toMatchObject([{ containerId: "c-db", paused: true }]);
});

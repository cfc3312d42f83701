import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "../../../../src/config/load.ts";
import { resolvePaths } from "../../../../src/config/resolve.ts";
import { runMessage } from "../../../../src/core/alerts/message.ts";
import { preflightMessage } from "../../../../src/core/alerts/preflight.ts";
import { outcomeError } from "../../../../src/core/backup/result.ts";
import { runBackup } from "../../../../src/core/backup/run.ts";
import { readRunRecords, writeRunRecord } from "../../../../src/core/backup/run-records.ts";
import { createJournal } from "../../../../src/core/containers/journal.ts";
import { AppError, ProcessError } from "../../../../src/core/errors.ts";
import type { SnapshotManifest } from "../../../../src/core/kopia/parse.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { Lifecycle } from "../../../../src/core/safe-exit.ts";
import { exitCodeFor, exitStatusAfterSignal } from "../../../../src/exit-codes.ts";
import { renderHistory, renderRecord } from "../../../../src/ui/backup-report.ts";
import { renderRunDetail } from "../../../../src/ui/history-report.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { fakeKopia } from "./fixtures.ts";

const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const STARTED_AT = "2025-01-01T00:00:00.000000001Z";
/** A pid no process has (the child has exited): the run that wrote the journal entry is dead. */
const deadPid = () => Bun.spawnSync(["true"]).pid;

/**
 * A host connected to a filesystem repository, whose journal says a killed run stopped `web`; docker
 * holds `web` stopped as that run left it. `docker start web` fails with `startError` when given.
 */
function host(
  o: {
    startError?: string;
    repoHere?: boolean;
    hold?: string;
    inspectError?: string;
    backedUp?: boolean;
    /** The repository's points: compose project `other` runs beside `web`, retention keeps 1 point. */
    points?: SnapshotManifest[];
  } = {},
) {
  const t = tempDir("kd-heal-");
  dirs.push(t);
  const repo = join(t.path, "repo");
  if (o.repoHere !== false) {
    mkdirSync(repo);
    writeFileSync(join(repo, "kopia.repository.f"), "{}");
  }
  writeFileSync(join(t.path, "pw"), "pw\n", { mode: 0o600 });
  const config = parseConfigText(
    `[repository]\npath = "${repo}"\npassword_file = "${join(t.path, "pw")}"\n` +
      `[paths]\nstate_dir = "${join(t.path, "state")}"\ncache_dir = "${join(t.path, "cache")}"\nlock_file = "${join(t.path, "lock")}"\n` +
      (o.points ? "[retention]\nlatest = 1\ndaily = 0\nweekly = 0\nmonthly = 0\nannual = 0\n" : ""),
    "x",
  );
  const paths = resolvePaths(config);
  mkdirSync(join(paths.kopiaConfigFile, ".."), { recursive: true });
  writeFileSync(
    paths.kopiaConfigFile,
    JSON.stringify({
      storage: { type: "filesystem", config: { path: repo } },
      hostname: "h",
      username: "kopi-docka",
    }),
  );
  createJournal(paths.journalDir).record({
    runId: "20250101T000000Z-dead00",
    pid: deadPid(),
    pidStartTime: 1,
    unit: "web",
    containerId: "id-web",
    containerName: "/web",
    stoppedAt: "2025-01-01T00:00:10.000Z",
    startedAt: STARTED_AT,
    ...(o.hold ? { hold: o.hold } : {}),
  });
  const web = FakeDocker.container(
    "id-web",
    { Running: false, StartedAt: STARTED_AT, FinishedAt: "2025-01-01T00:00:11Z" },
    "web",
  );
  // Excluded, these tests look at the heal alone; `backedUp`, it is compose project `web`'s (a stopped
  // standalone container is in no unit).
  web.Config.Labels = o.backedUp
    ? { "com.docker.compose.project": "web", "com.docker.compose.service": "web" }
    : { "kopi-docka.exclude": "true" };
  const other = FakeDocker.container("id-other", { StartedAt: STARTED_AT }, "other");
  other.Config.Labels = { "com.docker.compose.project": "other", "com.docker.compose.service": "other" };
  const docker = new FakeDocker({
    containers: o.points ? [web, other] : [web],
    before: (call) => {
      if (o.inspectError && call.startsWith("inspect "))
        throw new ProcessError({
          argv: ["docker", "inspect"],
          exitCode: 1,
          signal: null,
          stderrTail: o.inspectError,
        });
      if (o.startError && call === "start id-web")
        throw new ProcessError({
          argv: ["docker", "start"],
          exitCode: 1,
          signal: null,
          stderrTail: o.startError,
        });
    },
  });
  const isKopia = (w: string) => (a: readonly string[]) => a[0] === "kopia" && a.includes(w);
  const runner = new FakeRunner(
    [],
    [
      { argv: (a) => isKopia("snapshot")(a) && a.includes("list"), stdout: JSON.stringify(o.points ?? []) },
      {
        argv: (a) => isKopia("snapshot")(a) && a.includes("create"),
        stdout: `${JSON.stringify(point("new", "r9", "other"))}\n`,
      },
      { argv: isKopia("export"), stdout: "{}\n" },
      { argv: isKopia("policy") },
      { argv: isKopia("snapshot"), stdout: "" },
      { argv: isKopia("maintenance"), stdout: JSON.stringify({ owner: "someone@else" }) },
    ],
  );
  const deps = {
    config,
    paths,
    runner,
    docker,
    kopia: fakeKopia(runner),
    log: silentLogger(),
    lifecycle: new Lifecycle(),
    hostname: "h",
    version: "9.9.9",
    sleep: async () => {},
  };
  return { deps, docker, paths };
}

/** The recipe of `unit`'s point of run `run` (r1, r2: its day in January 2026). */
const point = (id: string, run: string, unit: string): SnapshotManifest => ({
  id,
  source: { host: "h", userName: "kopi-docka", path: `/kopi-docka/${unit}/recipe` },
  startTime: `2026-01-0${run.slice(1)}T00:00:00Z`,
  tags: {
    "tag:unit": unit,
    "tag:backup_id": `${run}-${unit}`,
    "tag:run_id": run,
    "tag:type": "recipe",
    "tag:timestamp": `2026-01-0${run.slice(1)}T00:00:00Z`,
  },
});

const BIND_GONE =
  "Error response from daemon: invalid mount config: bind source path does not exist: /srv/web";

describe("backup: the heal of what a killed run left stopped reaches the record", () => {
  test("a container the heal could not start: restart_failed, exit 4, an URGENT alert naming it and the next step", async () => {
    const { deps, docker, paths } = host({ startError: BIND_GONE });
    const record = await runBackup(deps, { units: [] });
    expect(docker.calls).toContain("start id-web");
    expect(record.status).toBe("restart_failed");
    expect(record.restartFailed).toEqual(["web"]);
    expect(record.errors[0]).toMatchObject({ phase: "start", item: "web" });
    expect(record.errors[0]?.message).toContain("bind source path does not exist");
    expect(readRunRecords(paths.runsDir, (l) => expect(l).toBe("")).map((r) => r.status)).toEqual([
      "restart_failed",
    ]);
    const error = outcomeError(record);
    expect(error?.message).toContain("CONTAINERS NOT RUNNING AGAIN: web");
    expect(exitCodeFor(error)).toBe(4);
    const m = runMessage(record, exitCodeFor(error));
    expect(m.severity).toBe("urgent");
    expect(m.title).toBe("kopi-docka h: URGENT: containers NOT running again: web");
    expect(m.body).toContain("DOWN   web");
    expect(m.body).toContain("next: fix the cause, then docker start web (or kopi-docka recover");
    expect(m.body).not.toContain("warning: start");
    expect(renderRecord(record)).toContain("container web  NOT RUNNING");
    expect(renderHistory([record])).toContain("container web");
    expect(renderRunDetail(record).join("\n")).toContain("NOT RUNNING (start failed): web");
    expect(renderRunDetail(record).join("\n")).toContain(
      "could not start web, which a killed run had left stopped",
    );
    // A signal later in the run exits 4 for it too, not 143.
    expect(exitStatusAfterSignal("SIGTERM", deps.lifecycle)).toBe(4);
  });

  test("a container the heal started: the run stays ok, with a warning naming it", async () => {
    const { deps, docker } = host();
    const record = await runBackup(deps, { units: [] });
    expect(docker.calls[docker.calls.indexOf("inspect id-web") + 1]).toBe("start id-web");
    expect(record.status).toBe("ok");
    expect(record.warnings).toEqual(["started web, which a killed run had left stopped"]);
    const m = runMessage(record, 0);
    expect(m.severity).toBe("warning");
    expect(m.body).toContain("warning: started web, which a killed run had left stopped");
    expect(renderRecord(record)).toContain("Warnings:\n  started web, which a killed run had left stopped");
    // Each run takes the next number under the lock; its record keeps it (`run-sequence.ts`).
    expect(record.sequence).toBe(1);
    expect((await runBackup(deps, { units: [] })).sequence).toBe(2);
    expect(readRunRecords(deps.paths.runsDir, () => {}).map((r) => r.sequence)).toEqual([1, 2]);
  });

  test("a heal failure and then an unreachable repository: restart_failed (exit 4), not 'no container was stopped'", async () => {
    const { deps } = host({ startError: BIND_GONE, repoHere: false });
    const e = await runBackup(deps, { units: [] }).catch((x) => x);
    expect(e).toBeInstanceOf(AppError);
    expect(exitCodeFor(e)).toBe(4);
    expect(e.message).toContain("CONTAINERS NOT RUNNING: web");
    const m = preflightMessage("h", e, 4);
    expect(m.severity).toBe("urgent");
    expect(m.title).not.toContain("repository unreachable");
    expect(m.body).not.toContain("no container was stopped");
    expect(m.body).toContain("docker start web");
  });

  test("a container a restore left held: never started, a warning naming it and what to do", async () => {
    const hold =
      "restore r1 of web was replacing its data when it ended: restore it again; then start it (docker start)";
    const { deps, docker } = host({ hold });
    const record = await runBackup(deps, { units: [] });
    expect(docker.calls).not.toContain("start id-web");
    expect(record.status).toBe("ok");
    expect(record.warnings).toEqual([`web stays stopped on purpose: ${hold}`]);
    expect(runMessage(record, 0).body).toContain(`warning: web stays stopped on purpose: ${hold}`);
    expect(renderRunDetail(record)).toContain(`warning: web stays stopped on purpose: ${hold}`);
  });

  test("a unit with a container a restore left held is not backed up: it fails, no point, no expiry, exit 1, an alert saying what to do", async () => {
    const hold =
      "restore r1 of web was replacing its data when it ended, so it may hold half-restored data: restore it again; then start it (docker start)";
    const { deps, docker, paths } = host({ hold, backedUp: true });
    const record = await runBackup(deps, { units: [] });
    expect(docker.calls).not.toContain("start id-web");
    expect(docker.calls.filter((c) => /^stop /.test(c))).toEqual([]);
    // No snapshot of it, and no retention run on its points (`snapshot list` is expiry's first read).
    expect(deps.runner.calls.filter((c) => c.argv.includes("snapshot")).map((c) => c.argv.join(" "))).toEqual(
      [],
    );
    expect(record.units.map((u) => [u.name, u.status])).toEqual([["web", "failed"]]);
    const u = record.units[0];
    expect(u).toMatchObject({ sources: [], stopped: [] });
    expect(u?.errors[0]).toMatchObject({ phase: "stop", item: "web" });
    expect(u?.errors[0]?.message).toContain("web is held stopped by a restore that did not finish");
    expect(u?.errors[0]?.message).toContain(hold);
    expect(u?.errors[0]?.message).toContain("its restore points are not expired");
    expect(u?.errors[0]?.next).toContain("restore unit web again");
    expect(u?.errors[0]?.next).toContain("docker start web");
    expect(record.status).toBe("failed");
    expect(readRunRecords(paths.runsDir, (l) => expect(l).toBe("")).map((r) => r.status)).toEqual(["failed"]);
    const error = outcomeError(record);
    expect(exitCodeFor(error)).toBe(1);
    expect(error?.message).toContain("web: failed (stop web: web is held stopped");
    const m = runMessage(record, exitCodeFor(error));
    expect(m.severity).not.toBe("info");
    expect(m.body).toContain("next: restore unit web again");
  });

  test("retention runs for the units backed up, never for the held one: its points stay however many", async () => {
    const hold = "restore r1 of web was replacing its data when it ended: restore it again";
    const points = ["web", "other"].flatMap((u) => [point(`${u}1`, "r1", u), point(`${u}2`, "r2", u)]);
    const { deps } = host({ hold, backedUp: true, points });
    const record = await runBackup(deps, { units: [] });
    expect(record.units.map((u) => [u.name, u.status])).toEqual([
      ["other", "ok"],
      ["web", "failed"],
    ]);
    expect(record.status).toBe("partial");
    expect(exitCodeFor(outcomeError(record))).toBe(3);
    const deleted = deps.runner.calls.filter((c) => c.argv.includes("delete")).map((c) => c.argv);
    expect(deleted).toHaveLength(1);
    expect(deleted[0]).toContain("other1");
    expect(deleted[0]).not.toContain("web1");
    expect(record.expired).toEqual(["other@r1-other"]);
  });

  test("docker cannot be asked about them: the pre-flight alert is URGENT and says containers may be down", async () => {
    const { deps } = host({ inspectError: "Cannot connect to the Docker daemon" });
    const e = await runBackup(deps, { units: [] }).catch((x) => x);
    expect(exitCodeFor(e)).toBe(4);
    const m = preflightMessage("h", e, 4);
    expect(m.severity).toBe("urgent");
    expect(m.title).toBe(
      "kopi-docka h: URGENT: containers a killed run stopped NOT started again; backup NOT run",
    );
    expect(m.body).toContain("may still be down");
    expect(m.body).not.toContain("no container was stopped");
  });
});

describe("backup: the runs directory stays bounded by the points retention left (`run-records-prune.ts`)", () => {
  const hold = "restore r1 of web was replacing its data when it ended: restore it again";
  const points = ["web", "other"].flatMap((u) => [point(`${u}1`, "r1", u), point(`${u}2`, "r2", u)]);
  /** 1 001 records of June 2024: beyond the newest thousand, over 400 days old, long before any point. */
  const oldRecords = (runsDir: string) => {
    for (let i = 0; i < 1001; i++) {
      const at = new Date(Date.parse("2024-06-01T00:00:00Z") + i * 1000).toISOString();
      const runId = `old-${String(i).padStart(4, "0")}`;
      const base = { runId, version: "0.1.0", hostname: "h", scope: "standard" as const, durationMs: 1 };
      writeRunRecord(runsDir, {
        ...base,
        startedAt: at,
        finishedAt: at,
        status: "ok",
        units: [],
        errors: [],
      });
    }
  };
  const ids = (runsDir: string) => readRunRecords(runsDir, (l) => expect(l).toBe("")).map((r) => r.runId);

  test("retention judged every unit: the records before the newest 1 000 go after the run's own is written", async () => {
    const { deps } = host({ backedUp: true, points });
    oldRecords(deps.paths.runsDir);
    const record = await runBackup(deps, { units: [] });
    expect(record.expired).toEqual(["other@r1-other", "web@r1-web"]);
    expect(ids(deps.paths.runsDir)).toHaveLength(1000);
    expect(ids(deps.paths.runsDir)[0]).toBe("old-0002");
    expect(ids(deps.paths.runsDir).at(-1)).toBe(record.runId);
  });

  test("a point retention leaves older than the records (a unit no longer backed up): none goes", async () => {
    const stale = { ...point("gone1", "r0", "gone"), startTime: "2024-05-01T00:00:00Z" };
    stale.tags = { ...stale.tags, "tag:timestamp": "2024-05-01T00:00:00Z" };
    const { deps } = host({ backedUp: true, points: [...points, stale] });
    oldRecords(deps.paths.runsDir);
    const record = await runBackup(deps, { units: [] });
    expect(record.expired).toEqual(["other@r1-other", "web@r1-web"]);
    expect(ids(deps.paths.runsDir)).toHaveLength(1002);
  });

  test("retention did not judge every unit (one refused, one skipped, none backed up): none goes", async () => {
    // A point of `other` dated later than now: retention skips that unit (`planExpire`).
    const ahead = { ...point("other9", "r9", "other"), startTime: "2099-01-01T00:00:00Z" };
    ahead.tags = { ...ahead.tags, "tag:timestamp": "2099-01-01T00:00:00Z" };
    const cases: [Parameters<typeof host>[0], string[] | undefined][] = [
      [{ hold, backedUp: true, points }, ["other@r1-other"]],
      [{ backedUp: true, points: [...points, ahead] }, ["web@r1-web"]],
      [{}, undefined],
    ];
    for (const [o, expired] of cases) {
      const { deps } = host(o);
      oldRecords(deps.paths.runsDir);
      const record = await runBackup(deps, { units: [] });
      expect(record.expired).toEqual(expired);
      expect(ids(deps.paths.runsDir)).toHaveLength(1002);
    }
  });
});

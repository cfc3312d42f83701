import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "../../../../src/config/load.ts";
import { resolvePaths } from "../../../../src/config/resolve.ts";
import { runMessage } from "../../../../src/core/alerts/message.ts";
import { preflightMessage } from "../../../../src/core/alerts/preflight.ts";
import { outcomeError } from "../../../../src/core/backup/result.ts";
import { runBackup } from "../../../../src/core/backup/run.ts";
import { readRunRecords } from "../../../../src/core/backup/run-records.ts";
import { createJournal } from "../../../../src/core/containers/journal.ts";
import { AppError, ProcessError } from "../../../../src/core/errors.ts";
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
function host(o: { startError?: string; repoHere?: boolean; hold?: string; inspectError?: string } = {}) {
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
      `[paths]\nstate_dir = "${join(t.path, "state")}"\ncache_dir = "${join(t.path, "cache")}"\nlock_file = "${join(t.path, "lock")}"\n`,
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
  // Not backed up itself once running again: what these tests look at is the heal alone.
  web.Config.Labels = { "kopi-docka.exclude": "true" };
  const docker = new FakeDocker({
    containers: [web],
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
    expect(readRunRecords(paths.runsDir).map((r) => r.status)).toEqual(["restart_failed"]);
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

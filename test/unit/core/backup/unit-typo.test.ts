import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "../../../../src/config/load.ts";
import { resolvePaths } from "../../../../src/config/resolve.ts";
import { runWithAlerts } from "../../../../src/core/alerts/around-run.ts";
import { missedStateFile } from "../../../../src/core/alerts/phase.ts";
import { outcomeError } from "../../../../src/core/backup/result.ts";
import { runBackup } from "../../../../src/core/backup/run.ts";
import { createJournal } from "../../../../src/core/containers/journal.ts";
import { UsageError } from "../../../../src/core/errors.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { Lifecycle } from "../../../../src/core/safe-exit.ts";
import { exitCodeFor } from "../../../../src/exit-codes.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { fakeKopia } from "./fixtures.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A loopback receiver (heartbeat at /hc, json:// target at /hook): every request as `METHOD /path`, and each body. */
function receiver() {
  const got: string[] = [];
  const bodies: string[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    // Path and body pushed together: the end ping and the alert arrive at the same time.
    fetch: async (req) => {
      const body = await req.text();
      got.push(`${req.method} ${new URL(req.url).pathname}`);
      bodies.push(body);
      return new Response("OK");
    },
  });
  cleanups.push(() => server.stop(true));
  return { got, bodies, url: `http://127.0.0.1:${server.port}/hc`, port: server.port as number };
}

/**
 * A host whose one unit is compose project `web`, with a ping URL and compression set (a run would
 * write the policy); any alert phase writes `missed.json`. The
 * runner is strict and knows no kopia command: any kopia call fails the run with that call.
 */
function host(pingUrl: string, extraConfig = "") {
  const t = tempDir("kd-unit-typo-");
  cleanups.push(() => t.remove());
  const repo = join(t.path, "repo");
  mkdirSync(repo);
  writeFileSync(join(repo, "kopia.repository.f"), "{}");
  writeFileSync(join(t.path, "pw"), "pw\n", { mode: 0o600 });
  const config = parseConfigText(
    `[repository]\npath = "${repo}"\npassword_file = "${join(t.path, "pw")}"\ncompression = "s2-default"\n` +
      `[paths]\nstate_dir = "${join(t.path, "state")}"\ncache_dir = "${join(t.path, "cache")}"\nlock_file = "${join(t.path, "lock")}"\n` +
      `[alerts]\nping_url = "${pingUrl}"\n${extraConfig}`,
    "x",
  );
  const paths = resolvePaths(config);
  const web = FakeDocker.container("id-web", {}, "web");
  web.Config.Labels = { "com.docker.compose.project": "web", "com.docker.compose.service": "web" };
  const docker = new FakeDocker({ containers: [web] });
  const runner = new FakeRunner();
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
  return { deps, runner, docker, paths };
}

const kopiaCalls = (runner: FakeRunner) => runner.calls.filter((c) => c.argv[0] === "kopia");

describe("backup --unit with a name no unit has, at a terminal: exit 2, nothing sent, nothing written", () => {
  test("no heartbeat reaches the receiver, no kopia command runs, missed.json is not written", async () => {
    const hc = receiver();
    const { deps, runner, paths } = host(hc.url);
    const e = await runWithAlerts({ ...deps, exitCodeFor, outcomeError, atTerminal: true }, (namesChecked) =>
      runBackup(deps, { units: ["nope"] }, namesChecked),
    ).catch((x) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toBe("no unit named nope on this host");
    expect(exitCodeFor(e)).toBe(2);
    expect(hc.got).toEqual([]);
    expect(kopiaCalls(runner)).toEqual([]);
    expect(existsSync(missedStateFile(paths))).toBe(false);
  });

  test("a container's name says whose it is, or why it is no unit; still exit 2, nothing sent", async () => {
    const hc = receiver();
    const { deps, runner, docker, paths } = host(hc.url);
    docker.containers.set("id-old", FakeDocker.container("id-old", { Running: false }, "old"));
    const db = FakeDocker.container("id-db", {}, "web_db_1");
    db.Config.Labels = { "com.docker.compose.project": "web", "com.docker.compose.service": "db" };
    docker.containers.set("id-db", db);
    docker.containers.set("id-held", FakeDocker.container("id-held", { Running: false }, "kept"));
    createJournal(paths.journalDir).record({
      runId: "r1",
      pid: 1,
      unit: "kept",
      containerId: "id-held",
      containerName: "kept",
      stoppedAt: "2026-12-01T00:00:00Z",
      startedAt: "2026-11-30T00:00:00Z",
      hold: "restore r1",
    });
    const e = await runWithAlerts({ ...deps, exitCodeFor, outcomeError, atTerminal: true }, (namesChecked) =>
      runBackup(deps, { units: ["web", "old", "kept", "nope", "web_db_1"] }, namesChecked),
    ).catch((x) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect(exitCodeFor(e)).toBe(2);
    expect(e.message).toContain("no unit named old, kept, nope, web_db_1 on this host: ");
    expect(e.message).toContain("web_db_1 is a container of unit web: back it up with --unit web");
    expect(e.message).toContain(
      "old is a stopped container (exited): only running standalone containers are units; start it (docker start old), then back up",
    );
    expect(e.message).toContain(
      "kept is held stopped by a restore of unit kept that did not finish (restore r1)",
    );
    expect(e.message).not.toContain("nope is");
    expect(hc.got).toEqual([]);
    expect(kopiaCalls(runner)).toEqual([]);
  });

  test("a name that exists: the heartbeat starts once it is checked, and the repository side runs", async () => {
    const hc = receiver();
    const { deps, runner, paths } = host(hc.url);
    let checkedAt = -1;
    const e = await runWithAlerts({ ...deps, exitCodeFor, outcomeError, atTerminal: true }, (namesChecked) =>
      runBackup(deps, { units: ["web"] }, () => {
        checkedAt = runner.calls.length;
        namesChecked();
      }),
    ).catch((x) => x);
    // The strict runner refuses the repository's first command: the run fails on it, reported.
    expect(String(e)).toContain("FakeRunner: unexpected command");
    expect(checkedAt).toBe(0);
    expect(kopiaCalls(runner).length).toBeGreaterThan(0);
    expect(hc.got).toEqual(["POST /hc/start", "POST /hc/1"]);
    expect(existsSync(missedStateFile(paths))).toBe(true);
  });

  test("without --unit the heartbeat start is not held back: it is called before the lock is taken", async () => {
    const { deps, paths } = host("");
    let lockThere: boolean | undefined;
    await runBackup(deps, { units: [] }, () => {
      lockThere = existsSync(paths.lockFile);
    }).catch(() => undefined);
    expect(lockThere).toBe(false);
  });
});

describe("backup --unit with a unit that is excluded, at a terminal: exit 2 with the reason, nothing sent, nothing written", () => {
  /** Before: the run went on with no unit, recorded `ok`, and its heartbeat said success. */
  const refused = async (extraConfig: string, add: (docker: FakeDocker) => void, units: string[]) => {
    const hc = receiver();
    const { deps, runner, docker, paths } = host(hc.url, extraConfig);
    add(docker);
    const e = await runWithAlerts({ ...deps, exitCodeFor, outcomeError, atTerminal: true }, (namesChecked) =>
      runBackup(deps, { units }, namesChecked),
    ).catch((x) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect(exitCodeFor(e)).toBe(2);
    expect(hc.got).toEqual([]);
    expect(kopiaCalls(runner)).toEqual([]);
    expect(existsSync(missedStateFile(paths))).toBe(false);
    expect(existsSync(paths.runsDir)).toBe(false);
    expect(docker.calls.filter((c) => /^(stop|start|update)\b/.test(c))).toEqual([]);
    return e as UsageError & { hint?: string };
  };

  test("[units.X] exclude = true: the config key, and how to include it", async () => {
    const e = await refused("[units.web]\nexclude = true\n", () => {}, ["web"]);
    expect(e.message).toBe(
      "not backed up: web is excluded (config [units.web] exclude = true): remove `exclude = true` from [units.web] in the config to back it up",
    );
    expect(e.hint).toBe("units it backs up: (none); nothing was changed");
  });

  test("the kopi-docka.exclude label on every container; another, included unit named with it changes nothing either", async () => {
    const e = await refused(
      "",
      (docker) => {
        const web = docker.containers.get("id-web");
        if (web?.Config.Labels) web.Config.Labels["kopi-docka.exclude"] = "true";
        docker.containers.set("id-app", FakeDocker.container("id-app", {}, "app"));
      },
      ["app", "web"],
    );
    expect(e.message).toBe(
      "not backed up: web is excluded (every container is excluded (web: label kopi-docka.exclude=true)): remove the label kopi-docka.exclude from its containers (recreate them: labels are fixed at creation) to back it up",
    );
    expect(e.hint).toBe("units it backs up: app; nothing was changed");
  });

  test("a unit name discovery refuses (it could become a path) is named with its reason", async () => {
    const e = await refused(
      "",
      (docker) => {
        const bad = FakeDocker.container("id-bad", {}, "bad_1");
        bad.Config.Labels = { "com.docker.compose.project": "Bad", "com.docker.compose.service": "s" };
        docker.containers.set("id-bad", bad);
      },
      ["Bad"],
    );
    expect(e.message).toStartWith(
      'not backed up: Bad is excluded (invalid compose project name "Bad" (allowed: ',
    );
    expect(e.message).toEndWith(
      "): a unit's name becomes part of paths and tags: give it a valid one (the compose project's name, or the container's name or kopi-docka.unit label) to back it up",
    );
  });
});

describe("backup --unit under a timer (no terminal): the usage error is a failed run, alerted", () => {
  /** The same run with nobody at the terminal, a json:// target for failures beside the heartbeat. */
  const unattended = async (units: string[], extraConfig = "") => {
    const hc = receiver();
    const { deps, runner, docker, paths } = host(
      hc.url,
      `${extraConfig}[[alerts.notify]]\nurl = "json://127.0.0.1:${hc.port}/hook"\nlevel = "failure"\n`,
    );
    const e = await runWithAlerts({ ...deps, exitCodeFor, outcomeError, atTerminal: false }, (namesChecked) =>
      runBackup(deps, { units }, namesChecked),
    ).catch((x) => x);
    // The error and its exit code are what a terminal gets; the alert comes on top.
    expect(e).toBeInstanceOf(UsageError);
    expect(exitCodeFor(e)).toBe(2);
    expect(kopiaCalls(runner)).toEqual([]);
    expect(existsSync(paths.runsDir)).toBe(false);
    expect(docker.calls.filter((c) => /^(stop|start|update)\b/.test(c))).toEqual([]);
    expect(hc.got.toSorted()).toEqual(["POST /hc/2", "POST /hc/start", "POST /hook"]);
    expect(hc.got.indexOf("POST /hc/start")).toBeLessThan(hc.got.indexOf("POST /hc/2"));
    const alert = JSON.parse(hc.bodies[hc.got.indexOf("POST /hook")] ?? "{}");
    return { e: e as UsageError & { hint?: string }, alert };
  };

  test("a name no unit has: the failure alert names the error and the hint; start, then /2", async () => {
    const { e, alert } = await unattended(["nosuch"]);
    expect(alert.title).toBe("kopi-docka h: backup NOT started (the command line is wrong)");
    expect(alert.body).toContain("no container was stopped");
    expect(alert.body).toContain("no unit named nosuch on this host");
    expect(alert.body).toContain("next: units: web (see `kopi-docka list`)");
    expect(alert.severity).toBe("failure");
    expect(e.message).toBe("no unit named nosuch on this host");
  });

  test("an excluded unit: the alert gives the reason and the units it backs up", async () => {
    const { alert } = await unattended(["web"], "[units.web]\nexclude = true\n");
    expect(alert.body).toContain("not backed up: web is excluded (config [units.web] exclude = true)");
    expect(alert.body).toContain("next: units it backs up: (none); nothing was changed");
  });
});

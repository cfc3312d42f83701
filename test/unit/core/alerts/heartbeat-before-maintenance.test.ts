import { afterEach, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "../../../../src/config/load.ts";
import { resolvePaths } from "../../../../src/config/resolve.ts";
import { runWithAlerts } from "../../../../src/core/alerts/around-run.ts";
import { outcomeError } from "../../../../src/core/backup/result.ts";
import { runBackup } from "../../../../src/core/backup/run.ts";
import { readRunRecords } from "../../../../src/core/backup/run-records.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import type { Runner } from "../../../../src/core/process/runner.ts";
import { Lifecycle } from "../../../../src/core/safe-exit.ts";
import { exitCodeFor } from "../../../../src/exit-codes.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { pathRecorder } from "../../../helpers/receivers.ts";
import { fakeKopia } from "../backup/fixtures.ts";

// A full maintenance may take hours after the backup itself: the heartbeat's end must not wait for
// it, or the monitor's grace runs out and it reports a backup missed that was made.

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A loopback receiver (heartbeat at /hc, json:// target at /hook), stopped after the test. */
function receiver() {
  const r = pathRecorder();
  cleanups.push(r.stop);
  return r;
}

const PAST = new Date(Date.now() - 60_000).toISOString();
const FUTURE = new Date(Date.now() + 86_400_000).toISOString();
const kopia =
  (...words: string[]) =>
  (a: readonly string[]) =>
    a[0] === "kopia" && words.every((w) => a.includes(w));

/**
 * A host with one compose unit `shop`, connected to a filesystem repository, owning maintenance with
 * quick maintenance due; `kopia maintenance run` fails. `onMaintenance` runs as it starts.
 */
function host(
  port: number,
  onMaintenance: () => Promise<void>,
  onCall: (argv: readonly string[]) => void = () => {},
) {
  const t = tempDir("kd-s22-hb-");
  cleanups.push(() => t.remove());
  const repo = join(t.path, "repo");
  mkdirSync(repo);
  writeFileSync(join(repo, "kopia.repository.f"), "{}");
  writeFileSync(join(t.path, "pw"), "pw\n", { mode: 0o600 });
  const config = parseConfigText(
    `[repository]\npath = "${repo}"\npassword_file = "${join(t.path, "pw")}"\n` +
      `[paths]\nstate_dir = "${join(t.path, "state")}"\ncache_dir = "${join(t.path, "cache")}"\nlock_file = "${join(t.path, "lock")}"\n` +
      `[alerts]\ntimeout = 5\nping_url = "http://127.0.0.1:${port}/hc"\n` +
      `[[alerts.notify]]\nurl = "json://127.0.0.1:${port}/hook"\nlevel = "warning"\n`,
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
  const shop = FakeDocker.container("id-shop", { StartedAt: "2025-01-01T00:00:00Z" }, "shop_web_1");
  shop.Config.Labels = { "com.docker.compose.project": "shop", "com.docker.compose.service": "web" };
  const manifest = { id: "m1", source: { host: "h", userName: "kopi-docka", path: "/x" }, startTime: "t" };
  const fake = new FakeRunner(
    [],
    [
      { argv: kopia("snapshot", "list"), stdout: "[]" },
      { argv: kopia("snapshot", "create"), stdout: `${JSON.stringify(manifest)}\n` },
      { argv: kopia("policy", "export"), stdout: "{}\n" },
      { argv: kopia("policy") },
      { argv: kopia("snapshot"), stdout: "" },
      {
        argv: kopia("maintenance", "info"),
        stdout: JSON.stringify({
          owner: "kopi-docka@h",
          schedule: { nextQuickMaintenance: PAST, nextFullMaintenance: FUTURE },
        }),
      },
      { argv: kopia("maintenance", "run"), exitCode: 1, stderr: "maintenance: disk quota exceeded" },
    ],
  );
  const runner: Runner = {
    run: async (argv, opts) => {
      onCall(argv);
      if (kopia("maintenance", "run")(argv)) await onMaintenance();
      return fake.run(argv, opts);
    },
  };
  return {
    config,
    paths,
    runner,
    docker: new FakeDocker({ containers: [shop] }),
    kopia: fakeKopia(runner),
    log: silentLogger(),
    lifecycle: new Lifecycle(),
    hostname: "h",
    version: "9.9.9",
    sleep: async () => {},
  };
}

test("the heartbeat's end goes out before the maintenance after the backup; the maintenance's failure comes with the run's warning", async () => {
  const rx = receiver();
  const pings = () => rx.got.filter((r) => r.path.startsWith("POST /hc")).map((r) => r.path);
  let atMaintenance: string[] = [];
  const deps = host(rx.port, async () => {
    // Long enough for the end ping to arrive when it is sent before this step.
    for (let i = 0; i < 200 && pings().length < 2; i++) await Bun.sleep(10);
    atMaintenance = pings();
  });
  const record = await runWithAlerts(
    { ...deps, exitCodeFor, outcomeError, atTerminal: false },
    (namesChecked, backedUp) => runBackup(deps, { units: [] }, namesChecked, backedUp),
  );
  expect(record.status).toBe("ok");
  expect(record.units.map((u) => [u.name, u.status])).toEqual([["shop", "ok"]]);
  // Before: [] (start and end both waited for the whole run) or only the start.
  expect(atMaintenance).toEqual(["POST /hc/start", "POST /hc"]);
  // One end only: the phase after the maintenance does not ping again.
  expect(pings()).toEqual(["POST /hc/start", "POST /hc"]);
  expect(record.maintenance?.map((m) => [m.kind, m.status])).toEqual([["quick", "failed"]]);
  const alert = JSON.parse(rx.got.find((r) => r.path === "POST /hook")?.body ?? "{}");
  expect(alert.severity).toBe("warning");
  expect(alert.body).toContain("maintenance: disk quota exceeded");
});

test("a signal during retention, after the units: the heartbeat's end is the signal's (/143), never a success first", async () => {
  const rx = receiver();
  const pings = () => rx.got.filter((r) => r.path.startsWith("POST /hc")).map((r) => r.path);
  let saved = false;
  let signalled: Promise<void> | undefined;
  const deps = host(
    rx.port,
    async () => {},
    (argv) => {
      if (kopia("snapshot", "create")(argv)) saved = true;
      // Retention's list of the points, once the unit's snapshot is saved.
      else if (saved && !signalled && kopia("snapshot", "list")(argv))
        signalled = deps.lifecycle.onSignal("SIGTERM");
    },
  );
  await runWithAlerts({ ...deps, exitCodeFor, outcomeError, atTerminal: false }, (namesChecked, backedUp) =>
    runBackup(deps, { units: [] }, namesChecked, backedUp),
  );
  expect(signalled).toBeDefined();
  await signalled;
  // Before: "POST /hc" (a success) went out at once, and the signal's end was never sent.
  expect(pings()).toEqual(["POST /hc/start", "POST /hc/143"]);
  const [written] = readRunRecords(deps.paths.runsDir, () => {});
  expect(written?.interrupted).toBe("SIGTERM");
  expect(written?.maintenance).toBeUndefined();
});

test("a signal during the maintenance: the outcome told stands in the record, the maintenance cut short is a warning", async () => {
  const rx = receiver();
  const pings = () => rx.got.filter((r) => r.path.startsWith("POST /hc")).map((r) => r.path);
  let signalled: Promise<void> | undefined;
  const deps = host(rx.port, async () => {
    signalled = deps.lifecycle.onSignal("SIGTERM");
  });
  await runWithAlerts({ ...deps, exitCodeFor, outcomeError, atTerminal: false }, (namesChecked, backedUp) =>
    runBackup(deps, { units: [] }, namesChecked, backedUp),
  );
  expect(signalled).toBeDefined();
  await signalled;
  expect(pings()).toEqual(["POST /hc/start", "POST /hc"]);
  const runs = readRunRecords(deps.paths.runsDir, () => {});
  expect(runs).toHaveLength(1);
  // Before: status "failed", interrupted by SIGTERM, though every unit was saved and told as such.
  expect(runs[0]?.status).toBe("ok");
  expect(runs[0]?.interrupted).toBeUndefined();
  expect(runs[0]?.errors).toContainEqual(
    expect.objectContaining({
      phase: "maintenance",
      message: expect.stringContaining("interrupted by SIGTERM"),
    }),
  );
});

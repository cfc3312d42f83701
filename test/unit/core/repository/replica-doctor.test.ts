import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseConfigText } from "../../../../src/config/load.ts";
import type { RunRecord } from "../../../../src/core/backup/result.ts";
import { writeRunRecord } from "../../../../src/core/backup/run-records.ts";
import type { Runner } from "../../../../src/core/process/runner.ts";
import { replicaChecks } from "../../../../src/core/repository/replica-doctor.ts";
import { markSynced, refusedMarker, syncedMarker } from "../../../../src/core/repository/replica-guard.ts";
import { Lifecycle } from "../../../../src/core/safe-exit.ts";
import { type Expectation, FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { kopiaOn } from "../../../helpers/kopia.ts";

const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const SECRET = "replica-doctor-secret";
const isConnect = (argv: readonly string[]) => argv[3] === "repository" && argv[4] === "connect";

/**
 * doctor's replica lines on a host with a filesystem replica "offsite" (its directory made, a copy
 * in it when `copy`) and an S3 replica "cloud" whose endpoint nothing listens on (port 1).
 */
async function lines(
  answers: Expectation[],
  o: {
    synced: string[];
    copy?: boolean;
    gone?: boolean;
    refused?: boolean;
    runs?: (offsite: string) => RunRecord[];
  },
) {
  const t = tempDir("kdt-replica-doctor-");
  dirs.push(t);
  const d = t.path;
  writeFileSync(join(d, "pw"), "pw\n", { mode: 0o600 });
  writeFileSync(join(d, "secret"), `${SECRET}\n`, { mode: 0o600 });
  const offsite = join(d, "mnt", "offsite");
  mkdirSync(offsite, { recursive: true });
  if (o.copy) writeFileSync(join(offsite, "kopia.repository.f"), "{}");
  if (o.gone) rmSync(offsite, { recursive: true });
  const config = parseConfigText(
    `[repository]\npath = "${join(d, "repo")}"\npassword_file = "${join(d, "pw")}"\n\n` +
      `[[replicas]]\nname = "offsite"\nbackend = "filesystem"\npath = "${offsite}"\n\n` +
      `[[replicas]]\nname = "cloud"\nbackend = "s3"\nbucket = "b"\nprefix = "copy/"\nendpoint = "127.0.0.1:1"\ntls = false\n` +
      `access_key_id_file = "${join(d, "secret")}"\nsecret_access_key_file = "${join(d, "secret")}"\n`,
    "x",
  );
  const stateDir = join(d, "state");
  const where = { offsite, cloud: "s3://b/copy/ at http://127.0.0.1:1" };
  if (o.refused) {
    mkdirSync(dirname(refusedMarker(stateDir, "offsite")), { recursive: true });
    writeFileSync(refusedMarker(stateDir, "offsite"), JSON.stringify({ location: offsite, objects: 3 }));
  }
  for (const name of o.synced) markSynced(stateDir, name, where[name as keyof typeof where]);
  for (const record of o.runs?.(offsite) ?? []) writeRunRecord(join(d, "runs"), record);
  const runner = new FakeRunner(answers);
  const checks = await replicaChecks(kopiaOn(runner, d), config, {
    stateDir,
    runsDir: join(d, "runs"),
    runner,
    lifecycle: new Lifecycle(),
    now: new Date(Date.now() + 3 * 3_600_000),
  });
  return { checks, calls: runner.calls, stateDir, dir: d };
}

test("a synced replica that opens is ok, with when it was last copied; a synced one whose server is down fails with the backup's hint", async () => {
  const r = await lines([{ argv: isConnect }], { synced: ["offsite", "cloud"], copy: true });
  expect(r.checks.map((c) => [c.id, c.status])).toEqual([
    ["replica", "ok"],
    ["replica", "fail"],
  ]);
  const [offsite, cloud] = r.checks;
  expect(offsite?.detail).toMatch(
    /^offsite at .*offsite opens with the configured credentials and password; last copy on record 3h/,
  );
  // The read-only connect went into a kopia config of its own, gone since; no other kopia call.
  expect(r.calls).toHaveLength(1);
  expect(r.calls[0]?.argv).toContain("--readonly");
  expect(existsSync(dirname(r.calls[0]?.argv[2] ?? "/"))).toBe(false);
  expect(cloud?.detail).toMatch(
    /^cloud: cannot reach the repository at s3:\/\/b\/copy\/ .*127\.0\.0\.1:1.*is the server up\?$/,
  );
  expect(cloud?.hint).toMatch(/^cloud: check the server, the network/);
  expect(JSON.stringify(r.checks)).not.toContain(SECRET);
});

test("a synced replica whose copy is gone fails as the next sync would; one kopia refuses to open fails too", async () => {
  const gone = await lines([], { synced: ["offsite"], gone: true });
  expect(gone.checks[0]).toMatchObject({ id: "replica", status: "fail" });
  // doctor copies nothing by design: the sync's "nothing was copied" would read as a copy that failed.
  expect(gone.checks[0]?.detail).toEndWith(
    "no longer holds the copy made there before: is the disk mounted?",
  );
  expect(gone.checks[0]?.hint).toContain(syncedMarker(gone.stateDir, "offsite"));
  expect(gone.calls).toEqual([]);
  const refused = await lines(
    [{ argv: isConnect, exitCode: 1, stderr: "cannot open storage: permission denied\n" }],
    { synced: ["offsite"], copy: true },
  );
  expect(refused.checks[0]).toMatchObject({ status: "fail" });
});

test("a replica never synced warns with what to run; doctor writes no marker and runs no kopia", async () => {
  const r = await lines([], { synced: [] });
  const [offsite, cloud] = r.checks;
  expect(offsite).toMatchObject({ id: "replica", status: "warn" });
  expect(offsite?.detail).toMatch(/^offsite at .* has never been synced/);
  expect(offsite?.hint).toContain("kopi-docka repo sync --replica offsite");
  // Never synced, and its server down: the server is what to fix first.
  expect(cloud).toMatchObject({ status: "fail" });
  expect(r.calls).toEqual([]);
  expect(existsSync(join(r.stateDir, "replicas"))).toBe(false);
  expect(readdirSync(r.dir).sort()).toEqual(["mnt", "pw", "secret"]);
});

test("a filesystem replica never synced whose directory is missing fails: the first sync would", async () => {
  const r = await lines([], { synced: [], gone: true });
  expect(r.checks[0]).toMatchObject({ status: "fail" });
  expect(r.checks[0]?.detail).toEndWith("does not exist (is its disk mounted?)");
  expect(r.checks[0]?.hint).toMatch(
    /^offsite: with the replica's disk mounted: mkdir -m 0700 .*; then kopi-docka repo sync --replica offsite makes the first copy$/,
  );
});

test("a location a first sync refused before (kopia's format blob left there) fails, not a warning: the next sync refuses it again", async () => {
  const r = await lines([], { synced: [], copy: true, refused: true });
  expect(r.checks[0]).toMatchObject({ status: "fail" });
  expect(r.checks[0]?.detail).toEndWith("holds data that are not this repository");
  expect(r.checks[0]?.hint).toMatch(/^offsite: a replica's location must be empty/);
});

/** A backup's run record whose replica sync to `location` ended `status`, `hoursFromNow` from now. */
const run = (id: string, hoursFromNow: number, location: string, status: "ok" | "failed"): RunRecord => {
  const at = new Date(Date.now() + hoursFromNow * 3_600_000).toISOString();
  return {
    runId: id,
    version: "0.1.0",
    hostname: "h",
    scope: "standard",
    startedAt: at,
    finishedAt: at,
    durationMs: 1000,
    status: status === "ok" ? "ok" : "partial",
    units: [],
    errors: [],
    replicas: [{ name: "offsite", location, status, durationMs: 10 }],
  };
};

test("the last copy on record is the newest backup that copied to this location, not a failed one nor one elsewhere", async () => {
  const r = await lines([{ argv: isConnect }], {
    synced: ["offsite"],
    copy: true,
    // doctor looks 3 h from now: the marker's first sync 3 h back, this record 2 h back.
    runs: (at) => [run("r1", 1, at, "ok"), run("r2", 2, at, "failed"), run("r3", 2.5, "/elsewhere", "ok")],
  });
  expect(r.checks[0]?.status).toBe("ok");
  expect(r.checks[0]?.detail).toMatch(/; last copy on record 2h 0m ago$/);
});

test("the replicas are looked at side by side: two that each take T take about T, not 2T, and keep the config's order", async () => {
  const t = tempDir("kdt-replica-doctor-");
  dirs.push(t);
  const d = t.path;
  writeFileSync(join(d, "pw"), "pw\n", { mode: 0o600 });
  const at = { first: join(d, "first"), second: join(d, "second") };
  const stateDir = join(d, "state");
  for (const [name, path] of Object.entries(at)) {
    mkdirSync(path);
    writeFileSync(join(path, "kopia.repository.f"), "{}");
    markSynced(stateDir, name, path);
  }
  const config = parseConfigText(
    `[repository]\npath = "${join(d, "repo")}"\npassword_file = "${join(d, "pw")}"\n` +
      Object.entries(at)
        .map(([name, path]) => `\n[[replicas]]\nname = "${name}"\nbackend = "filesystem"\npath = "${path}"\n`)
        .join(""),
    "x",
  );
  const T = 400;
  const fake = new FakeRunner([{ argv: isConnect }, { argv: isConnect }]);
  // Each connect answers after T, as a slow server does; the first in the config answers last.
  const runner: Runner = {
    run: async (argv, opts) => {
      await Bun.sleep(argv.includes(at.first) ? T + 100 : T);
      return fake.run(argv, opts);
    },
  };
  const started = performance.now();
  const checks = await replicaChecks(kopiaOn(runner, d), config, {
    stateDir,
    runsDir: join(d, "runs"),
    runner,
    lifecycle: new Lifecycle(),
  });
  const took = performance.now() - started;
  expect(checks.map((c) => [c.status, c.detail.split(" ")[0]])).toEqual([
    ["ok", "first"],
    ["ok", "second"],
  ]);
  expect(fake.remaining).toBe(0);
  // One after another: 2T + 100 ms at least. Side by side: T + 100 ms, well below 1.6 T.
  expect(took).toBeLessThan(1.6 * T);
});

import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runMessage } from "../../../../src/core/alerts/message.ts";
import { type EarlyReads, executeBackup } from "../../../../src/core/backup/execute.ts";
import { maintainAfterRun } from "../../../../src/core/backup/maintenance.ts";
import { planBackup } from "../../../../src/core/backup/plan.ts";
import type { RunRecord } from "../../../../src/core/backup/result.ts";
import type { Runner } from "../../../../src/core/process/runner.ts";
import { ledgerFile } from "../../../../src/core/repository/snapshot-ledger.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { type Expectation, FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { backupDeps, config, discovery, fakeKopia, planOpts, stackUnit } from "./fixtures.ts";

// The nightly backup's full maintenance: after every container runs again and after quick
// maintenance, when this identity owns maintenance, kopia's schedule says full is due and
// `[backup] full_maintenance` allows it; through the guard `repo maintenance --full` runs.

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const PAST = new Date(Date.now() - 60_000).toISOString();
const FUTURE = new Date(Date.now() + 86_400_000).toISOString();
const kopia =
  (...words: string[]) =>
  (a: readonly string[]) =>
    a[0] === "kopia" && words.every((w) => a.includes(w));
const isFull = (a: readonly string[]) => kopia("maintenance", "run")(a) && a.includes("--full");
const isQuick = (a: readonly string[]) => kopia("maintenance", "run")(a) && !a.includes("--full");

interface Host {
  owner?: string;
  nextFull?: string;
  fullEnabled?: boolean;
  /** The guard's `snapshot verify` finds a snapshot whose data the index no longer lists. */
  unreadable?: boolean;
  /** The guard's `snapshot list` fails (the repository stopped answering). */
  listFails?: boolean;
}

function answers(o: Host): Expectation[] {
  const manifest = { id: "m1", source: { host: "h", userName: "kopi-docka", path: "/x" }, startTime: "t" };
  return [
    {
      argv: kopia("snapshot", "verify"),
      ...(o.unreadable ? { exitCode: 1, stderr: "error processing x: content abc not found" } : {}),
    },
    {
      argv: kopia("snapshot", "list"),
      ...(o.listFails ? { exitCode: 1, stderr: "dial tcp: connection refused" } : { stdout: "[]" }),
    },
    { argv: kopia("snapshot"), stdout: `${JSON.stringify(manifest)}\n` },
    { argv: kopia("policy", "export"), stdout: "{}\n" },
    { argv: kopia("policy"), stdout: "{}" },
    {
      argv: kopia("maintenance", "info"),
      stdout: JSON.stringify({
        owner: o.owner ?? "kopi-docka@h",
        ...(o.fullEnabled === false ? { full: { enabled: false, interval: 576e12 } } : {}),
        schedule: { nextQuickMaintenance: PAST, nextFullMaintenance: o.nextFull ?? PAST },
      }),
    },
    { argv: isFull },
    { argv: isQuick },
  ];
}

type Deps = ReturnType<typeof backupDeps<Runner, FakeDocker>>;

/** One unit backed up on a fake host; `wrap` puts a runner of the test's around the fake one. */
async function backUp(
  host: Host,
  o: { cfg?: Record<string, unknown>; failStart?: string; wrap?: (r: Runner, d: Deps) => Runner } = {},
) {
  const dir = tempDir("kd-maint-");
  dirs.push(dir);
  const fake = new FakeRunner([], answers(host));
  const names = ["web", "app", "db"].map((s) => `shop_${s}_1`);
  const starts: string[] = [];
  const docker = new FakeDocker({
    containers: names.map((n) => FakeDocker.container(`id-${n}`, { StartedAt: "2025-01-01T00:00:00Z" }, n)),
    before: (call) => {
      if (call.startsWith("start ")) starts.push(call);
      if (o.failStart && call.startsWith(`start id-${o.failStart}`)) throw new Error("no such network");
    },
  });
  const c = config({ paths: { state_dir: join(dir.path, "state") }, ...o.cfg });
  const deps: Deps = backupDeps<Runner, FakeDocker>({ config: c, runner: fake, docker, dir: dir.path });
  const order: string[] = [];
  const traced: Runner = {
    run: (argv, opts) => {
      if (kopia("maintenance", "run")(argv) || kopia("snapshot", "verify")(argv))
        order.push(
          `${isFull(argv) ? "full" : argv.includes("verify") ? "verify" : "quick"} after ${starts.length} starts`,
        );
      return fake.run(argv, opts);
    },
  };
  deps.runner = o.wrap ? o.wrap(traced, deps) : traced;
  deps.kopia = fakeKopia(deps.runner);
  const plan = planBackup(deps.config, discovery(stackUnit()), new Date(), {
    ...planOpts,
    stagingDir: dir.path,
    scope: "minimal",
  });
  const early: EarlyReads = {};
  const record = await executeBackup(deps, plan, discovery(stackUnit()), undefined, early);
  await maintainAfterRun(deps, record, early.maintenanceInfo);
  return { record, fake, order, deps, stateDir: join(dir.path, "state") };
}

const ran = (fake: FakeRunner, p: (a: readonly string[]) => boolean) => fake.calls.some((c) => p(c.argv));

describe("full maintenance after a backup", () => {
  test("due: quick, then the guard, then full, all after every container runs again; the record says how long", async () => {
    const { record, order, stateDir } = await backUp({});
    expect(order).toEqual(["quick after 3 starts", "verify after 3 starts", "full after 3 starts"]);
    expect(record.status).toBe("ok");
    expect(record.errors).toEqual([]);
    expect(record.maintenance).toEqual([
      { kind: "quick", status: "ok", startedAt: expect.any(String), durationMs: expect.any(Number) },
      {
        kind: "full",
        status: "ok",
        startedAt: expect.any(String),
        durationMs: expect.any(Number),
        checkMs: expect.any(Number),
      },
    ]);
    // the guard's second half: the snapshots as they are now, for the next check
    expect(existsSync(ledgerFile(stateDir))).toBe(true);
  });

  test("not due (kopia's schedule names a later time): quick only, no guard", async () => {
    const { record, fake } = await backUp({ nextFull: FUTURE });
    expect(ran(fake, isQuick)).toBe(true);
    expect(ran(fake, kopia("snapshot", "verify"))).toBe(false);
    expect(ran(fake, isFull)).toBe(false);
    expect(record.maintenance?.map((m) => m.kind)).toEqual(["quick"]);
  });

  test("another identity owns maintenance: neither quick nor full, nothing recorded", async () => {
    const { record, fake } = await backUp({ owner: "kopi-docka@other" });
    expect(ran(fake, kopia("maintenance", "run"))).toBe(false);
    expect(ran(fake, kopia("snapshot", "verify"))).toBe(false);
    expect(record.maintenance).toBeUndefined();
  });

  test("the guard refuses: no full maintenance, the run stays ok, a maintenance warning with the reason and what to do", async () => {
    const { record, fake } = await backUp({ unreadable: true });
    expect(ran(fake, isFull)).toBe(false);
    expect(record.status).toBe("ok");
    expect(record.errors).toEqual([
      {
        phase: "maintenance",
        message: expect.stringContaining(
          "full maintenance was not run (it would delete the packs that index listed)",
        ),
        next: expect.stringContaining("index recover --commit"),
      },
    ]);
    expect(record.errors[0]?.message).not.toStartWith("full maintenance not run:");
    expect(record.maintenance?.[1]).toMatchObject({ kind: "full", status: "refused" });
    const alert = runMessage(record as RunRecord, 0);
    expect(alert.severity).toBe("warning");
    expect(alert.body).toContain("warning: maintenance: the repository is damaged");
    expect(alert.body).toContain("next: `kopi-docka repo verify` names the snapshots");
  });

  test("the guard's own kopia call fails otherwise: not run, said as such, with a next step", async () => {
    const { record, fake } = await backUp({ listFails: true });
    expect(ran(fake, isFull)).toBe(false);
    expect(record.errors[0]?.message).toStartWith("full maintenance not run: ");
    expect(record.errors[0]?.next).toContain("kopi-docka repo maintenance --full");
  });

  test("[backup] full_maintenance = false: quick only, even when full is due", async () => {
    const { record, fake } = await backUp({}, { cfg: { backup: { full_maintenance: false } } });
    expect(ran(fake, isQuick)).toBe(true);
    expect(ran(fake, kopia("snapshot", "verify"))).toBe(false);
    expect(ran(fake, isFull)).toBe(false);
    expect(record.maintenance?.map((m) => m.kind)).toEqual(["quick"]);
  });

  test("kopia's full cycle disabled on the repository (`maintenance set --enable-full=false`): not run", async () => {
    const { fake } = await backUp({ fullEnabled: false });
    expect(ran(fake, isFull)).toBe(false);
  });

  test("the server backend: no maintenance read or run at all, the server's own", async () => {
    const server = {
      backend: "server",
      url: "https://b.example:51515",
      server_cert_fingerprint: "ab".repeat(32),
    };
    const { record, fake } = await backUp({}, { cfg: { repository: server } });
    expect(ran(fake, kopia("maintenance"))).toBe(false);
    expect(ran(fake, kopia("snapshot", "verify"))).toBe(false);
    expect(record.maintenance).toBeUndefined();
  });

  test("a container that did not start again: full maintenance is skipped (the alert must not wait for it)", async () => {
    const { record, fake } = await backUp({}, { failStart: "shop_db_1" });
    expect(record.status).toBe("restart_failed");
    expect(ran(fake, kopia("snapshot", "verify"))).toBe(false);
    expect(ran(fake, isFull)).toBe(false);
    expect(record.maintenance?.find((m) => m.kind === "full")).toMatchObject({
      status: "skipped",
      reason: expect.stringContaining("shop_db_1"),
    });
  });

  test("a container a restore holds (a journal entry): skipped too", async () => {
    const { record, fake } = await backUp(
      {},
      {
        wrap: (r, d) => {
          d.journal.record({
            runId: "restore-1",
            pid: process.pid,
            unit: "blog",
            containerId: "id-blog_db_1",
            containerName: "blog_db_1",
            stoppedAt: "2025-01-01T00:00:00Z",
            startedAt: "2025-01-01T00:00:00Z",
            hold: "a restore was replacing its data",
          });
          return r;
        },
      },
    );
    expect(ran(fake, isFull)).toBe(false);
    expect(record.maintenance?.find((m) => m.kind === "full")?.reason).toContain("blog_db_1");
  });

  test("SIGTERM during full maintenance: kopia is ended through the signal, the record says interrupted, no warning", async () => {
    let signalled = false;
    const { record } = await backUp(
      {},
      {
        wrap: (r, d) => ({
          run: async (argv, opts) => {
            if (!isFull(argv)) return r.run(argv, opts);
            void d.lifecycle.onSignal("SIGTERM");
            signalled = opts?.signal === d.lifecycle.signal && d.lifecycle.signal.aborted;
            throw new Error("kopia maintenance run: killed by SIGTERM");
          },
        }),
      },
    );
    expect(signalled).toBe(true);
    expect(record.maintenance?.find((m) => m.kind === "full")).toMatchObject({
      status: "interrupted",
      reason: "interrupted by SIGTERM",
      checkMs: expect.any(Number),
    });
    expect(record.errors).toEqual([]);
  });
});

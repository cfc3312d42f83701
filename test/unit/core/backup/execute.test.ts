import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type EarlyReads, executeBackup } from "../../../../src/core/backup/execute.ts";
import { maintainAfterRun } from "../../../../src/core/backup/maintenance.ts";
import { planBackup } from "../../../../src/core/backup/plan.ts";
import { createKopia } from "../../../../src/core/kopia/kopia.ts";
import type { Runner } from "../../../../src/core/process/runner.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { type Expectation, FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { backupDeps, config, container, discovery, inspectOf, planOpts, stackUnit } from "./fixtures.ts";

/** `executeBackup`, then the maintenance `runBackup` runs at the run's end with its early reads. */
async function executeAndMaintain(
  deps: Parameters<typeof executeBackup>[0],
  plan: Parameters<typeof executeBackup>[1],
  disc: Parameters<typeof executeBackup>[2],
  early: EarlyReads = {},
) {
  const record = await executeBackup(deps, plan, disc, undefined, early);
  await maintainAfterRun(deps, record, early.maintenanceInfo);
  return record;
}

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const manifest = (id: string) =>
  JSON.stringify({
    id,
    source: { host: "h", userName: "kopi-docka", path: "/x" },
    startTime: "t",
    rootEntry: { summ: { size: 5, files: 1, numFailed: 0 } },
  });

/** Every kopia call answered; `failSnapshotOf` makes the snapshot of a path fail with no manifest. */
function fakeHost(
  o: {
    failSnapshotOf?: string;
    hookFails?: string;
    owner?: string;
    nextQuick?: string;
    policies?: string;
  } = {},
): Expectation[] {
  const kopia = (sub: string) => (a: readonly string[]) => a[0] === "kopia" && a.includes(sub);
  return [
    {
      argv: (a) => kopia("snapshot")(a) && a[5] === o.failSnapshotOf,
      exitCode: 1,
      stderr: "ERROR: disk full",
    },
    { argv: kopia("snapshot"), stdout: `${manifest("m1")}\n` },
    { argv: (a) => kopia("policy")(a) && a.includes("show"), stdout: "{}" },
    { argv: (a) => kopia("policy")(a) && a.includes("export"), stdout: o.policies ?? "{}\n" },
    { argv: (a) => kopia("policy")(a) && a.includes("set") },
    {
      argv: (a) => kopia("maintenance")(a) && a.includes("info"),
      stdout: JSON.stringify({
        owner: o.owner ?? "someone@else",
        ...(o.nextQuick ? { schedule: { nextQuickMaintenance: o.nextQuick } } : {}),
      }),
    },
    { argv: (a) => kopia("maintenance")(a) && a.includes("run") },
    { argv: (a) => a[0] === o.hookFails, exitCode: 1, stderr: "maintenance mode failed" },
    { argv: (a) => a[0]?.endsWith("/hook") === true },
  ];
}

/** The running containers of the units these tests back up, on a fake docker host. */
function dockerHost(events: string[]): FakeDocker {
  const names = ["shop", "blog"].flatMap((u) => ["web", "app", "db"].map((s) => `${u}_${s}_1`));
  return new FakeDocker({
    containers: names.map((n) => FakeDocker.container(`id-${n}`, { StartedAt: "2025-01-01T00:00:00Z" }, n)),
    before: (call) => {
      if (/^(stop|start) /.test(call)) events.push(call.split(" ").slice(0, 2).join(" "));
    },
  });
}

/** The runner, with each kopia snapshot noted in `events` (the order of stops, snapshots and starts). */
function traced(runner: FakeRunner, events: string[]): Runner {
  return {
    run: (argv, o) => {
      if (argv[0] === "kopia" && argv[3] === "snapshot") events.push(`snapshot ${argv[5]}`);
      return runner.run(argv, o);
    },
  };
}

function setup(fake: FakeRunner, cfg: Record<string, unknown> = {}) {
  const dir = tempDir("kd-exec-");
  dirs.push(dir);
  const c = config(cfg);
  const events: string[] = [];
  const runner = traced(fake, events);
  const deps = backupDeps({ config: c, runner, docker: dockerHost(events), dir: dir.path });
  const hook = join(dir.path, "hook");
  writeFileSync(hook, "#!/bin/sh\nexit 0\n");
  chmodSync(hook, 0o755);
  return { deps, dir: dir.path, hook, events };
}

describe("executeBackup", () => {
  test("stop (reverse dependency order) → snapshot data → start (dependency order)", async () => {
    const runner = new FakeRunner([], fakeHost());
    const { deps, dir, events } = setup(runner);
    const plan = planBackup(deps.config, discovery(stackUnit()), new Date(), {
      ...planOpts,
      stagingDir: dir,
      scope: "minimal",
    });
    // With the maintenance at the run's end, so the check of its owner below can fail.
    const record = await executeAndMaintain(deps, plan, discovery(stackUnit()));
    expect(events).toEqual([
      "stop id-shop_web_1",
      "stop id-shop_app_1",
      "stop id-shop_db_1",
      "snapshot /var/lib/docker/volumes/shop_dbdata/_data",
      "snapshot /srv/shop/uploads",
      "start id-shop_db_1",
      "start id-shop_app_1",
      "start id-shop_web_1",
    ]);
    expect(record.status).toBe("ok");
    expect(record.units[0]?.stopped).toHaveLength(3);
    const u = record.units[0];
    expect(u?.frozenWindowMs).toBeGreaterThanOrEqual(0);
    expect(u?.frozenWindowMs).toBeLessThanOrEqual(u?.coldWindowMs ?? -1);
    expect(deps.journal.entries()).toEqual([]);
    expect(deps.lifecycle.pending()).toEqual([]);
    const snap = runner.calls.find((c) => c.argv.includes("/srv/shop/uploads"))?.argv ?? [];
    expect(snap).toContain("kopi-docka@h:/kopi-docka/shop/binds/srv/shop/uploads");
    expect(snap).toContain("type:bind");
    // maintenance belongs to someone@else here: not run
    expect(runner.calls.some((c) => c.argv.includes("maintenance") && c.argv.includes("run"))).toBe(false);
  });

  test("each journal entry records its stop timeout, so a recovery knows how long the daemon may still stop it", async () => {
    const runner = new FakeRunner([], fakeHost());
    const { deps, dir } = setup(runner, { backup: { stop_timeout: 17 } });
    const recorded: (number | undefined)[] = [];
    const before = deps.docker.before;
    deps.docker.before = (call) => {
      if (call.startsWith("stop ")) recorded.push(deps.journal.entries().at(-1)?.stopTimeout);
      before?.(call);
    };
    const plan = planBackup(deps.config, discovery(stackUnit()), new Date(), {
      ...planOpts,
      stagingDir: dir,
      scope: "minimal",
    });
    await executeBackup(deps, plan, discovery(stackUnit()));
    expect(recorded).toEqual([17, 17, 17]);
  });

  test("kopi-docka@HOST's whole-data policy not in place: no data snapshot, the unit fails saying why", async () => {
    const runner = new FakeRunner([], fakeHost());
    const { deps, dir, events } = setup(runner);
    const plan = planBackup(deps.config, discovery(stackUnit()), new Date(), {
      ...planOpts,
      stagingDir: dir,
      scope: "minimal",
    });
    const why =
      "not snapshotted: kopia might leave files out (kopi-docka@h's kopia policy not updated: denied)";
    const record = await executeBackup(deps, plan, discovery(stackUnit()), undefined, { notWhole: why });
    expect(record.status).toBe("failed");
    const errors = record.units[0]?.errors.filter((e) => e.phase === "policy") ?? [];
    expect(errors.map((e) => [e.item, e.message]).sort()).toEqual([
      ["/srv/shop/uploads", why],
      ["shop_dbdata", why],
    ]);
    expect(events.filter((e) => e.startsWith("snapshot /srv") || e.startsWith("snapshot /var"))).toEqual([]);
  });

  test("a volume no host path holds is never snapshotted and is named in the record (issue 14)", async () => {
    const runner = new FakeRunner([], fakeHost());
    const { deps, dir } = setup(runner);
    const base = stackUnit();
    const nfs = {
      ...base.volumes[0],
      name: "shop_nfs",
      notProtected: "type=nfs: …",
    } as (typeof base.volumes)[0];
    const unit = {
      ...base,
      volumes: [...base.volumes, nfs],
      skipped: [
        {
          kind: "volume" as const,
          id: "shop_nfs",
          reason: "NOT PROTECTED: type=nfs: …",
          notProtected: true as const,
        },
      ],
    };
    const plan = planBackup(deps.config, discovery(unit), new Date(), {
      ...planOpts,
      stagingDir: dir,
      scope: "minimal",
    });
    const record = await executeBackup(deps, plan, discovery(unit));
    expect(record.units[0]?.sources.map((x) => x.label)).not.toContain("shop_nfs");
    expect(record.units[0]?.notProtected).toEqual(["volume shop_nfs: NOT PROTECTED: type=nfs: …"]);
  });

  test("every unit's containers run again before maintenance starts (only the owner runs it)", async () => {
    const runner = new FakeRunner([], fakeHost({ owner: "kopi-docka@h" }));
    const { deps, dir } = setup(runner);
    const units = [stackUnit("shop"), stackUnit("blog")];
    const plan = planBackup(deps.config, discovery(...units), new Date(), {
      ...planOpts,
      stagingDir: dir,
      scope: "minimal",
    });
    let startsBeforeMaintenance = -1;
    deps.kopia = createKopia(
      {
        run: (argv, o) => {
          if (argv.includes("maintenance") && argv.includes("run"))
            startsBeforeMaintenance = deps.docker.calls.filter((c) => c.startsWith("start ")).length;
          return deps.runner.run(argv, o);
        },
      },
      deps.kopia.options,
    );
    const record = await executeAndMaintain(deps, plan, discovery(...units));
    expect(record.status).toBe("ok");
    expect(deps.docker.calls.filter((c) => c.startsWith("start "))).toHaveLength(6);
    expect(startsBeforeMaintenance).toBe(6);
  });

  test("the owner runs quick maintenance only when kopia's schedule says it is due", async () => {
    for (const [nextQuick, runs] of [
      [new Date(Date.now() + 3_600_000).toISOString(), false],
      [new Date(Date.now() - 60_000).toISOString(), true],
    ] as const) {
      const runner = new FakeRunner([], fakeHost({ owner: "kopi-docka@h", nextQuick }));
      const { deps, dir } = setup(runner);
      const plan = planBackup(deps.config, discovery(stackUnit()), new Date(), {
        ...planOpts,
        stagingDir: dir,
        scope: "minimal",
      });
      const record = await executeAndMaintain(deps, plan, discovery(stackUnit()));
      expect(record.status).toBe("ok");
      const ran = runner.calls.some((c) => c.argv.includes("maintenance") && c.argv.includes("run"));
      expect({ nextQuick, ran }).toEqual({ nextQuick, ran: runs });
    }
  });

  test("on a repository server no maintenance is read or run: it is the server's (kopia refuses a client)", async () => {
    const refused = {
      exitCode: 1,
      stderr: "ERROR operation supported only on direct repository",
    };
    const runner = new FakeRunner(
      [],
      [
        { argv: (a: readonly string[]) => a.includes("maintenance"), ...refused },
        ...fakeHost({ owner: "kopi-docka@h" }),
      ],
    );
    const server = {
      backend: "server",
      url: "https://backup.example:51515",
      server_cert_fingerprint: "ab".repeat(32),
    };
    const { deps, dir } = setup(runner, { repository: server });
    const plan = planBackup(deps.config, discovery(stackUnit()), new Date(), {
      ...planOpts,
      stagingDir: dir,
      scope: "minimal",
    });
    const record = await executeAndMaintain(deps, plan, discovery(stackUnit()));
    expect(record.status).toBe("ok");
    expect(record.errors).toEqual([]);
    expect(runner.calls.some((c) => c.argv.includes("maintenance"))).toBe(false);
  });

  test("policies and maintenance info read early by the caller are used, not asked for again", async () => {
    const runner = new FakeRunner([], fakeHost({ owner: "kopi-docka@h" }));
    const { deps, dir } = setup(runner);
    const plan = planBackup(deps.config, discovery(stackUnit()), new Date(), {
      ...planOpts,
      stagingDir: dir,
      scope: "minimal",
    });
    const next = new Date(Date.now() + 3_600_000).toISOString();
    const record = await executeAndMaintain(deps, plan, discovery(stackUnit()), {
      identityPolicy: deps.kopia.policyShow("kopi-docka@h"),
      maintenanceInfo: Promise.resolve({ owner: "kopi-docka@h", schedule: { nextQuickMaintenance: next } }),
      definedPolicies: Promise.resolve({}),
    });
    expect(record.status).toBe("ok");
    const calls = (sub: string) => runner.calls.filter((c) => c.argv.includes(sub)).length;
    expect(calls("show")).toBe(1);
    expect(calls("info")).toBe(0);
    expect(calls("export")).toBe(0);
    expect(runner.calls.some((c) => c.argv.includes("maintenance"))).toBe(false);
  });

  test("an early maintenance read that failed (a repository outage the units outlasted) is asked once more, bounded", async () => {
    const runner = new FakeRunner([], fakeHost({ owner: "kopi-docka@h" }));
    const { deps, dir } = setup(runner);
    const plan = planBackup(deps.config, discovery(stackUnit()), new Date(), {
      ...planOpts,
      stagingDir: dir,
      scope: "minimal",
    });
    const failed = Promise.reject(new Error("kopia maintenance info --json timed out"));
    failed.catch(() => {});
    const record = await executeAndMaintain(deps, plan, discovery(stackUnit()), {
      identityPolicy: deps.kopia.policyShow("kopi-docka@h"),
      maintenanceInfo: failed,
      definedPolicies: Promise.resolve({}),
    });
    expect(record.errors).toEqual([]);
    const infos = runner.calls.filter((c) => c.argv.includes("maintenance") && c.argv.includes("info"));
    expect(infos.length).toBe(1);
    expect(infos[0]?.options.timeoutMs).toBe(60_000);
  });

  test("one `policy export` per run; ignore rules set only on the sources whose own list differs", async () => {
    const uploads = "kopi-docka@h:/kopi-docka/shop/binds/srv/shop/uploads";
    const defined = { "(global)": {}, [uploads]: { files: { ignore: ["*.log"] } } };
    const runner = new FakeRunner([], fakeHost({ policies: `${JSON.stringify(defined)}\n` }));
    const { deps, dir } = setup(runner, { backup: { exclude_patterns: ["*.log"] } });
    const units = [stackUnit("shop"), stackUnit("blog")];
    const plan = planBackup(deps.config, discovery(...units), new Date(), {
      ...planOpts,
      stagingDir: dir,
      scope: "minimal",
    });
    const record = await executeBackup(deps, plan, discovery(...units));
    expect(record.status).toBe("ok");
    const policy = runner.calls.map((c) => c.argv.slice(3)).filter((a) => a[0] === "policy");
    expect(policy.filter((a) => a[1] === "export")).toEqual([["policy", "export"]]);
    const sets = policy.filter((a) => a[1] === "set" && a.includes("--add-ignore=*.log")).map((a) => a[2]);
    expect(sets.sort()).toEqual([
      "kopi-docka@h:/kopi-docka/blog/binds/srv/shop/uploads",
      "kopi-docka@h:/kopi-docka/blog/volumes/blog_dbdata",
      "kopi-docka@h:/kopi-docka/shop/volumes/shop_dbdata",
    ]);
  });

  test("a failed `policy export` fails each data source's policy step; nothing is snapshotted without its excludes", async () => {
    const runner = new FakeRunner(
      [{ argv: (a) => a.includes("policy") && a.includes("export"), exitCode: 1, stderr: "ERROR boom" }],
      fakeHost(),
    );
    const { deps, dir } = setup(runner);
    const plan = planBackup(deps.config, discovery(stackUnit()), new Date(), {
      ...planOpts,
      stagingDir: dir,
      scope: "minimal",
    });
    const record = await executeBackup(deps, plan, discovery(stackUnit()));
    expect(record.status).toBe("failed");
    const errors = record.units[0]?.errors.filter((e) => e.phase === "policy") ?? [];
    expect(errors.map((e) => e.item).sort()).toEqual(["/srv/shop/uploads", "shop_dbdata"]);
    expect(runner.calls.some((c) => c.argv.includes("/srv/shop/uploads") && c.argv.includes("create"))).toBe(
      false,
    );
  });

  test("a failing snapshot still restarts every container; the unit fails with the cause", async () => {
    const runner = new FakeRunner(
      [],
      fakeHost({ failSnapshotOf: "/var/lib/docker/volumes/shop_dbdata/_data" }),
    );
    const { deps, dir, events } = setup(runner);
    const plan = planBackup(deps.config, discovery(stackUnit()), new Date(), {
      ...planOpts,
      stagingDir: dir,
      scope: "minimal",
    });
    const record = await executeBackup(deps, plan, discovery(stackUnit()));
    expect(events.filter((s) => s.startsWith("start"))).toHaveLength(3);
    expect(record.status).toBe("failed");
    expect(record.units[0]?.errors[0]).toMatchObject({ phase: "snapshot", item: "shop_dbdata" });
    expect(record.units[0]?.errors[0]?.message).toContain("disk full");
    expect(record.units[0]?.sources.find((s) => s.label === "/srv/shop/uploads")?.status).toBe("ok");
  });

  test("a failing pre-backup hook: nothing stopped, nothing snapshotted, other units go on", async () => {
    const { dir, hook } = setup(new FakeRunner([], fakeHost()));
    const bad = join(dir, "bad-hook");
    writeFileSync(bad, "#!/bin/sh\nexit 1\n");
    chmodSync(bad, 0o755);
    const { deps, events } = setup(new FakeRunner([], fakeHost({ hookFails: bad })));
    const cfg = config({ units: { shop: { pre_backup: bad } }, backup: { hooks: { pre_backup: hook } } });
    const disc = discovery(stackUnit(), stackUnit("blog"));
    const plan = planBackup(cfg, disc, new Date(), { ...planOpts, stagingDir: dir, scope: "minimal" });
    const record = await executeBackup({ ...deps, config: cfg }, plan, disc);
    expect(events.some((s) => s.includes("shop_"))).toBe(false);
    expect(events.filter((s) => s.includes("blog_"))).toHaveLength(7);
    expect(record.units.map((u) => u.status)).toEqual(["failed", "ok"]);
    expect(record.units[0]?.errors[0]?.phase).toBe("pre_hook");
    expect(record.status).toBe("partial");
  });

  test("the staged recipe has secrets redacted (env, command line, labels, volume options); none in argv", async () => {
    const runner = new FakeRunner([], fakeHost());
    const { deps, dir } = setup(runner);
    const secret = "s3cr3t-value-xyz";
    const unit = stackUnit();
    const env = [
      `DB_PASSWORD=${secret}`,
      "PLAIN=visible",
      "API_KEY=k-123",
      `DATABASE_URL=postgres://u:${secret}@h/db`,
    ];
    const base = inspectOf("shop_db_1", env, "x");
    unit.containers[2] = container("shop_db_1", {
      compose: unit.containers[2]?.compose,
      env: { DB_PASSWORD: secret, PLAIN: "visible" },
      inspect: {
        ...base,
        Args: ["--requirepass", secret],
        Config: {
          ...base.Config,
          Labels: { "traefik.http.middlewares.a.basicauth.users": `admin:${secret}` },
        },
      },
    });
    if (unit.volumes[0]) unit.volumes[0].options = { type: "cifs", o: `addr=nas,password=${secret}` };
    const plan = planBackup(deps.config, discovery(unit), new Date(), { ...planOpts, stagingDir: dir });
    const record = await executeBackup(deps, plan, discovery(unit));
    const staged = readFileSync(join(dir, "shop", "recipe", "inspect", "shop_db_1.json"), "utf8");
    expect(staged).not.toContain(secret);
    expect(staged).not.toContain("k-123");
    expect(staged).toContain("DB_PASSWORD=***REDACTED***");
    expect(staged).toContain("PLAIN=visible");
    expect(staged).toContain("DATABASE_URL=postgres://u:***REDACTED***@h/db");
    const unitJson = readFileSync(join(dir, "shop", "recipe", "unit.json"), "utf8");
    expect(unitJson).not.toContain(secret);
    expect(unitJson).toContain("addr=nas,password=***REDACTED***");
    for (const c of runner.calls) expect(c.argv.join(" ")).not.toContain(secret);
    for (const c of deps.docker.calls) expect(c).not.toContain(secret);
    expect(JSON.stringify(record)).not.toContain(secret);
  });
});

describe("warm-then-cold and kopia's retention", () => {
  // A warm pass is saved complete (the cold pass's one base): only while kopia keeps every snapshot,
  // else it would take a slot of kopia's per-source retention and could expire a real point.
  for (const keepsEverything of [false, true])
    test(`global policy ${keepsEverything ? "known to keep everything: a warm pass" : "not confirmed: no warm pass, a warning, backed up cold"}`, async () => {
      const list = (a: readonly string[]) => a[0] === "kopia" && a.includes("list");
      const runner = new FakeRunner([], [{ argv: list, stdout: "[]" }, ...fakeHost()]);
      const { deps, dir } = setup(runner);
      const unit = { ...stackUnit(), mode: "warm-then-cold" as const };
      const warned: string[] = [];
      deps.log.warn = ((m: unknown) => warned.push(String(m))) as unknown as typeof deps.log.warn;
      const plan = planBackup(deps.config, discovery(unit), new Date(), {
        ...planOpts,
        stagingDir: dir,
        scope: "minimal",
      });
      const record = await executeBackup(deps, plan, discovery(unit), undefined, { keepsEverything });
      expect(record.status).toBe("ok");
      const noWarm = warned.filter((w) => w.includes("no warm pass"));
      expect(noWarm).toEqual(
        keepsEverything
          ? []
          : [
              "shop: no warm pass (kopia's retention policy is not known to keep every snapshot); backing up cold",
            ],
      );
      // The warm pass lists the source's leftovers before its first warm snapshot.
      expect(runner.calls.some((c) => c.argv.includes("list"))).toBe(keepsEverything);
    });
});

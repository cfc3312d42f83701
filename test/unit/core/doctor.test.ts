import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseConfigText } from "../../../src/config/load.ts";
import { resolvePaths } from "../../../src/config/resolve.ts";
import { type Check, doctorError, doctorReport, runDoctor } from "../../../src/core/doctor.ts";
import { createKopia } from "../../../src/core/kopia/kopia.ts";
import type { Runner } from "../../../src/core/process/runner.ts";
import { markSynced } from "../../../src/core/repository/replica-guard.ts";
import { Lifecycle } from "../../../src/core/safe-exit.ts";
import { FakeDocker } from "../../fakes/fake-docker.ts";
import { FakeRunner } from "../../fakes/fake-runner.ts";
import { tempDir } from "../../helpers/env.ts";

const check = (id: string, status: Check["status"]): Check => ({ id, status, detail: id });
const kopiaChoice = async () =>
  ({ command: "kopia", path: "/k", version: "0.23.1", source: "path", embedded: null }) as const;

test.each<{ statuses: Check["status"][]; healthy: boolean; error?: string }>([
  { statuses: [], healthy: true },
  { statuses: ["ok", "ok"], healthy: true },
  { statuses: ["ok", "warn"], healthy: true },
  { statuses: ["fail", "warn", "ok"], healthy: false, error: "1 check(s) failed: c0" },
  { statuses: ["fail", "ok", "fail"], healthy: false, error: "2 check(s) failed: c0, c2" },
])("checks $statuses: healthy $healthy", ({ statuses, healthy, error }) => {
  const report = doctorReport(statuses.map((s, i) => check(`c${i}`, s)));
  expect(report.healthy).toBe(healthy);
  const e = doctorError(report);
  expect(e?.message).toBe(error);
  if (e) expect(e.code).toBe("check_failed");
});

describe("doctor report", () => {
  test("the schedule's lines join the report; its JSON keeps the check shape", async () => {
    const schedule = async (): Promise<Check[]> => [
      { id: "schedule", status: "fail", detail: "no backup timer", hint: "kopi-docka systemd install" },
    ];
    const checks = await runDoctor({
      runner: new FakeRunner(),
      docker: new FakeDocker(),
      lifecycle: new Lifecycle(),
      kopiaChoice,
      configProblem: "broken",
      isRoot: true,
      schedule,
    });
    const json = JSON.parse(JSON.stringify(doctorReport(checks)));
    expect(json.healthy).toBe(false);
    expect(json.checks.map((c: Check) => c.id)).toEqual([
      "docker",
      "docker-daemon",
      "compose",
      "kopia",
      "root",
      "config",
      "schedule",
    ]);
    expect(json.checks.at(-1)).toEqual({
      id: "schedule",
      status: "fail",
      detail: "no backup timer",
      hint: "kopi-docka systemd install",
    });
    const broken = await runDoctor({
      runner: new FakeRunner(),
      docker: new FakeDocker(),
      lifecycle: new Lifecycle(),
      kopiaChoice,
      isRoot: true,
      schedule: async () => {
        throw new Error("systemctl: Failed to connect to bus");
      },
    });
    expect(broken.at(-1)).toEqual({
      id: "schedule",
      status: "fail",
      detail: "cannot read the timer's state: systemctl: Failed to connect to bus",
    });
  });
});

test("the repository and its replica are looked at side by side: each taking T, doctor takes about T, not 2T", async () => {
  const t = tempDir("kdt-doctor-side-by-side-");
  try {
    const d = t.path;
    const primary = join(d, "repo");
    const replica = join(d, "offsite");
    for (const dir of [primary, replica]) {
      mkdirSync(dir);
      writeFileSync(join(dir, "kopia.repository.f"), "{}");
    }
    writeFileSync(join(d, "pw"), "pw\n", { mode: 0o600 });
    const config = parseConfigText(
      `[repository]\npath = "${primary}"\npassword_file = "${join(d, "pw")}"\n` +
        `[paths]\nstate_dir = "${join(d, "state")}"\ncache_dir = "${join(d, "cache")}"\nlock_file = "${join(d, "lock")}"\n` +
        `[[replicas]]\nname = "offsite"\nbackend = "filesystem"\npath = "${replica}"\n`,
      "x",
    );
    const paths = resolvePaths(config);
    // Connected: the repository line is one `repository status`; the synced replica's one connect.
    mkdirSync(dirname(paths.kopiaConfigFile), { recursive: true });
    writeFileSync(paths.kopiaConfigFile, "{}");
    markSynced(paths.stateDir, "offsite", replica);
    const status = JSON.stringify({
      storage: { type: "filesystem" },
      clientOptions: { hostname: "h", username: "kopi-docka" },
    });
    const fake = new FakeRunner(
      [],
      [{ argv: (a) => a.includes("status"), stdout: status }, { argv: (a) => a.includes("connect") }],
    );
    const T = 400;
    // Every kopia call answers after T, as a slow server does.
    const runner: Runner = {
      run: async (argv, opts) => {
        await Bun.sleep(T);
        return fake.run(argv, opts);
      },
    };
    const kopia = createKopia(runner, {
      configFile: paths.kopiaConfigFile,
      cacheDir: paths.kopiaCacheDir,
      logDir: paths.kopiaLogDir,
      password: () => "pw",
      hostname: "h",
      username: "kopi-docka",
    });
    const started = performance.now();
    const checks = await runDoctor({
      runner,
      docker: new FakeDocker(),
      lifecycle: new Lifecycle(),
      kopiaChoice,
      setup: { config, configPath: join(d, "config.toml"), paths, kopia },
      isRoot: true,
    });
    const took = performance.now() - started;
    const looked = checks.filter((c) => c.id === "repository" || c.id === "replica");
    expect(looked.map((c) => [c.id, c.status])).toEqual([
      ["repository", "ok"],
      ["replica", "ok"],
    ]);
    expect(fake.calls.map((c) => c.argv.includes("status"))).toEqual([true, false]);
    // One after another: 2T at least. Side by side: about T.
    expect(took).toBeLessThan(1.6 * T);
  } finally {
    t.remove();
  }
});

import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createConsola } from "consola";
import type { Ahead } from "../../../../src/core/backup/ahead.ts";
import { executeBackup } from "../../../../src/core/backup/execute.ts";
import { gateAndPolicies } from "../../../../src/core/backup/gate-policies.ts";
import { planBackup } from "../../../../src/core/backup/plan.ts";
import { ForeignActionError } from "../../../../src/core/kopia/actions.ts";
import { GATE_SCRIPT } from "../../../../src/core/kopia/gate.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { type Expectation, FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { backupDeps, config, discovery, planOpts, stackUnit } from "./fixtures.ts";

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

/** A captured `policy export` (test/fixtures/kopia, host kd-fixture) as host `h` would read it. */
const exported = (name: string) =>
  readFileSync(join(import.meta.dir, "../../../fixtures/kopia", `policy-export-${name}.json`), "utf8")
    .replaceAll("kd-fixture", "h")
    .replaceAll("/kopi-docka/app/volumes/app_data", "/kopi-docka/shop/volumes/shop_dbdata");

function setup(policies: string, more: Expectation[] = []) {
  const dir = tempDir("kd-gatepol-");
  dirs.push(dir);
  const kopia = (sub: string) => (a: readonly string[]) => a[0] === "kopia" && a.includes(sub);
  const manifest = { id: "m1", source: { host: "h", userName: "kopi-docka", path: "/x" }, startTime: "t" };
  const runner = new FakeRunner(
    [],
    [
      ...more,
      { argv: kopia("snapshot"), stdout: `${JSON.stringify(manifest)}\n` },
      { argv: (a) => kopia("policy")(a) && a.includes("export"), stdout: policies },
      { argv: (a) => kopia("policy")(a) && a.includes("set") },
      { argv: kopia("maintenance"), stdout: JSON.stringify({ owner: "someone@else" }) },
    ],
  );
  const names = ["web", "app", "db"].map((s) => `shop_${s}_1`);
  const running = { StartedAt: "2025-01-01T00:00:00Z" };
  const docker = new FakeDocker({
    containers: names.map((n) => FakeDocker.container(`id-${n}`, running, n)),
  });
  const warnings: string[] = [];
  const log = createConsola({
    level: 3,
    reporters: [{ log: (e) => void (e.type === "warn" && warnings.push(String(e.args[0]))) }],
  });
  const deps = { ...backupDeps({ config: config(), runner, docker, dir: dir.path }), log };
  const plan = planBackup(deps.config, discovery(stackUnit()), new Date(), {
    ...planOpts,
    stagingDir: dir.path,
    scope: "minimal",
  });
  // The run's one read, as run.ts hands it over.
  const defined = deps.kopia.policyDefinedAll();
  const early = {
    definedPolicies: defined,
    identityPolicy: defined.then((all) => all["kopi-docka@h"] ?? {}),
  };
  return { deps, runner, docker, plan, warnings, early };
}

describe("the gate only with kopi-docka's own actions", () => {
  test("a foreign action on a source's path: refused before any stop or snapshot, the ahead snapshots closed", async () => {
    const { deps, runner, docker, plan, early } = setup(exported("foreign"));
    let dropped = "";
    const ahead = {
      drop: async (why?: string) => {
        dropped = why ?? "";
      },
    } as Ahead;
    const run = executeBackup(deps, plan, discovery(stackUnit()), undefined, {
      ...early,
      ahead: Promise.resolve(ahead),
    });
    const e = await run.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ForeignActionError);
    expect((e as ForeignActionError).found.map((f) => [f.target, f.field])).toEqual([
      ["kopi-docka@h:/kopi-docka", "afterFolder"],
      ["kopi-docka@h:/kopi-docka/shop/volumes/shop_dbdata", "beforeSnapshotRoot"],
      ["kopi-docka@h:/kopi-docka/shop/volumes/shop_dbdata/sub", "beforeFolder"],
    ]);
    expect(docker.calls.filter((c) => /^(stop|start) /.test(c))).toEqual([]);
    expect(runner.calls.some((c) => c.argv.includes("snapshot"))).toBe(false);
    expect(dropped).toBe("kopia actions kopi-docka did not set");
    // One read of the policies, none in the window.
    expect(runner.calls.filter((c) => c.argv.includes("policy") && !c.argv.includes("set"))).toHaveLength(1);
  });

  test("an altered gate on kopi-docka@HOST is written back as ours, with a warning naming what was there", async () => {
    const { deps, runner, plan, warnings, early } = setup(exported("altered"));
    const record = await executeBackup(deps, plan, discovery(stackUnit()), undefined, early);
    expect(record.status).toBe("ok");
    const set = runner.calls.find((c) => c.argv.includes("set") && c.argv.includes("kopi-docka@h"));
    expect(set?.argv).toContain("--before-snapshot-root-action");
    expect(warnings).toEqual([
      `replaced kopi-docka@h's beforeSnapshotRoot kopia action (script "#!/bin/sh" (+2 lines), mode essential) with kopi-docka's`,
    ]);
    expect(warnings.join("\n")).not.toContain("curl");
  });

  test("the policies not read: no gate (nothing says which actions kopia would run)", async () => {
    const { deps } = setup("{}\n");
    const identityPolicy = Promise.resolve({ actions: { beforeSnapshotRoot: { script: GATE_SCRIPT } } });
    const definedPolicies = Promise.reject(new Error("boom"));
    const r = await gateAndPolicies(deps, { identityPolicy, definedPolicies });
    expect(r.found).toBeUndefined();
    expect(r.policies).toBeInstanceOf(Error);
  });

  test("only kopi-docka's gate: taken, no warning", async () => {
    const { deps, warnings, early } = setup(exported("gated"));
    expect((await gateAndPolicies(deps, early)).found).toBe("found");
    expect(warnings).toEqual([]);
  });
});

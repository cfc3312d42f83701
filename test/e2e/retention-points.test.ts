import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeDockerObjects } from "../helpers/cleanup.ts";
import { cliWith, runCli } from "../helpers/cli.ts";
import { describeReal, run, runTestContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

interface Point {
  key: string;
  runId: string;
  complete: boolean;
  problems: string[];
}

// `[retention]` on a real repository, counted in whole restore points. kopia's own retention, per
// source right after each snapshot, split them: a night whose data failed still snapshots the recipe,
// which then took a slot of the recipe's source, and a good point's recipe expired while its data
// stayed (a point that restore no longer offers as complete). latest = 2 here.
describeReal("retention keeps restore points whole", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-retention-");
  const name = uniqueName("kdtret");
  const data = join(dir.path, "data");
  const hook = join(dir.path, "hook.sh");
  const kd = join(dir.path, "kd");
  const config = writeTestConfig(
    kd,
    `\n[retention]\nlatest = 2\nhourly = 0\ndaily = 0\nweekly = 0\nmonthly = 0\nannual = 0\n\n[units.${name}]\npre_backup = "${hook}"\n`,
  );
  const { cli, json } = cliWith(config);
  const points = async (): Promise<Point[]> => (await json("snapshots")).points;
  const kopia = (...args: string[]) =>
    run(["kopia", "--config-file", join(kd, "state", "kopia", "repository.config"), ...args], {
      env: { KOPIA_PASSWORD: readFileSync(join(kd, "repository.password"), "utf8").trim() },
    });
  /** The run ids of every manifest in the repository: a point removed whole leaves none behind. */
  const runIdsInRepository = async () => {
    const all = JSON.parse((await kopia("snapshot", "list", "--all", "--json")).stdout);
    return new Set(all.map((m: { tags?: Record<string, string> }) => m.tags?.["tag:run_id"]));
  };
  const runs: string[] = [];
  const backup = async (expectExit: number) => {
    const r = await cli("backup", "--unit", name);
    expect(r.exitCode).toBe(expectExit);
    const [rec] = await json("history", "--last", "1");
    runs.push(rec.runId);
    return rec;
  };

  beforeAll(async () => {
    mkdirSync(data);
    writeFileSync(join(data, "f"), "payload");
    // With `<dir>/fail`, the bind's directory is gone when kopia reads it (a data disk not mounted):
    // the recipe is snapshotted, the data fails.
    writeFileSync(
      hook,
      `#!/bin/sh\nif [ -f ${dir.path}/fail ]; then rm ${dir.path}/fail; mv ${data} ${data}.away; fi\n`,
      { mode: 0o755 },
    );
    await runTestContainer(name, ["-v", `${data}:/data`]);
  }, 120_000);

  afterAll(async () => {
    await removeDockerObjects([name], []);
    dir.remove();
  }, 60_000);

  test("a failed night between good ones: the good point before it keeps its recipe and its data", async () => {
    await backup(0);
    await backup(0);
    writeFileSync(join(dir.path, "fail"), "");
    const failed = await backup(1);
    expect(failed.status).toBe("failed");
    // The disk is back (docker made an empty directory at the path when it started the container).
    rmSync(data, { recursive: true, force: true });
    renameSync(`${data}.away`, data);
    await run(["docker", "restart", "-t", "0", name]);
    const fourth = await backup(0);
    expect(fourth.expired).toEqual([expect.stringContaining(`${name}@`)]);
    expect((await cli("history", "--id", fourth.runId)).stdout).toContain(
      `past [retention], removed: ${fourth.expired[0]}`,
    );

    const ps = await points();
    expect(ps.map((p) => `${p.runId} ${p.complete}`)).toEqual([
      `${runs[3]} true`,
      `${runs[2]} false`,
      `${runs[1]} true`,
    ]);
    // The first point went whole: no snapshot of it is left.
    const left = await runIdsInRepository();
    expect(left.has(runs[0])).toBe(false);
    expect(left.has(runs[1])).toBe(true);
    const plan = await json("restore", "--unit", name, "--run", `${ps[2]?.key}`, "--dry-run");
    expect(plan.point.recipe).toBeDefined();
    expect(plan.point.complete).toBe(true);
  }, 300_000);

  test("the next good night: the failed point and the oldest good one go, each whole", async () => {
    const fifth = await backup(0);
    expect(fifth.expired).toHaveLength(2);
    expect((await points()).map((p) => p.runId)).toEqual(runs.slice(3).reverse());
    const left = await runIdsInRepository();
    for (const r of runs.slice(0, 3)) expect(left.has(r)).toBe(false);
  }, 120_000);

  test("kopia's own retention is off on kopi-docka's policy (every field zero); the global policy is left as it was", async () => {
    const show = async (target: string) =>
      JSON.parse((await kopia("policy", "show", target, "--json")).stdout).retention;
    expect(await show("kopi-docka@kd-test-host")).toMatchObject({
      keepLatest: 0,
      keepHourly: 0,
      keepDaily: 0,
      keepWeekly: 0,
      keepMonthly: 0,
      keepAnnual: 0,
    });
    // kopia's defaults for everyone else sharing the repository.
    expect((await show("--global")).keepLatest).toBe(10);
    expect(existsSync(join(data, "f"))).toBe(true);
  });

  test("a kopia policy of its own with retention: each backup warns, naming the command that resets it", async () => {
    // One source's own policy, set by hand: it outranks kopi-docka@HOST's retention off.
    const all = JSON.parse((await kopia("snapshot", "list", "--all", "--json")).stdout);
    const bind = all.find((m: { tags?: Record<string, string> }) => m.tags?.["tag:type"] === "bind");
    const target = `kopi-docka@kd-test-host:${bind.source.path}`;
    await kopia("policy", "set", target, "--keep-daily", "2");
    const warned = await cli("backup", "--unit", name);
    expect(warned.exitCode).toBe(0);
    const hint = warned.stderr.match(/reset it: kopi-docka kopia -- (policy set \S+ [^\n]+)/)?.[1];
    expect(warned.stderr).toContain(`kopia's policy for ${target} sets its own retention`);
    expect(hint).toBeDefined();
    const reset = await runCli(["kopia", "--config", config, "--", ...(hint ?? "").split(" ")]);
    expect({ exit: reset.exitCode, stderr: reset.stderr }).toMatchObject({ exit: 0 });
    const quiet = await cli("backup", "--unit", name);
    expect(quiet.exitCode).toBe(0);
    expect(quiet.stderr).not.toContain("sets its own retention");
  }, 120_000);
});

import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

const env = { KOPI_DOCKA_TEST_SOURCE: "1" };

// Anyone who can write <state_dir>/runs can leave a file there: the nightly backup must not be stopped
// by its own history, and a run stamped a year ahead (a clock set wrong, since corrected) must not make
// the textfile say "ok" after a failure.
describeReal("run records: a stray file, a run stamped ahead", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kd-runs-stray-");
  const name = uniqueName("s20f4rr");
  const kd = join(dir.path, "kd");
  const runs = join(kd, "state", "runs");
  const textfile = join(dir.path, "prom", "kopi_docka.prom");
  const metrics = `[metrics]\ntextfile = "${textfile}"\n`;
  const records = () =>
    readdirSync(runs)
      .filter((n) => /^\d{8}T\d{6}Z-[0-9a-f]{6}\.json$/.test(n))
      .map((n) => JSON.parse(readFileSync(join(runs, n), "utf8")));

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
    await run(["docker", "volume", "rm", "-f", `${name}-v`], { check: false });
    dir.remove();
  }, 60_000);

  test("backup, history and --stats go on past a foreign file and a unit without sources, warning once each", async () => {
    await startContainer(name, `${name}-v`);
    const cfg = writeTestConfig(kd, metrics);
    mkdirSync(runs, { recursive: true });
    writeFileSync(join(runs, "bad1.json"), '{"runId":"zzz","units":[]}');
    writeFileSync(
      join(runs, "bad2.json"),
      '{"runId":"yyy","startedAt":"2026-01-01T00:00:00.000Z","units":[{"name":"x"}]}',
    );
    const r = await runCli(["backup", "--config", cfg, "--unit", name], { env });
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    for (const bad of ["bad1.json", "bad2.json"])
      expect(r.stderr.split(`run record ${join(runs, bad)} left out`)).toHaveLength(2);
    const [written] = records();
    expect(written?.units.map((u: { name: string; status: string }) => [u.name, u.status])).toEqual([
      [name, "ok"],
    ]);
    const stats = await runCli(["history", "--stats", "--json", "--config", cfg], { env });
    expect({ exit: stats.exitCode, stderr: stats.stderr }).toMatchObject({ exit: 0 });
    expect(JSON.parse(stats.stdout)).toMatchObject([{ unit: name, ok: 1, lastOkAt: written.startedAt }]);
    const dry = await runCli(["backup", "--dry-run", "--config", cfg, "--unit", name], { env });
    expect({ exit: dry.exitCode, stderr: dry.stderr }).toMatchObject({ exit: 0 });
  }, 180_000);

  test("after an OK run stamped a year ahead, a failed run is the textfile's last run and no LAST OK", async () => {
    const [good] = records();
    const ahead = (iso: string) => new Date(Date.parse(iso) + 365 * 86_400_000).toISOString();
    const copy = {
      ...good,
      runId: `${good.runId.slice(0, 8).replace(/^\d{4}/, (y: string) => String(Number(y) + 1))}${good.runId.slice(8)}`,
      startedAt: ahead(good.startedAt),
      finishedAt: ahead(good.finishedAt),
    };
    writeFileSync(join(runs, `${copy.runId}.json`), JSON.stringify(copy));
    const hook = join(dir.path, "pre-hook.sh");
    writeFileSync(hook, "#!/bin/sh\necho 'not today' >&2\nexit 3\n");
    chmodSync(hook, 0o755);
    const cfg = writeTestConfig(kd, `${metrics}[backup.hooks]\npre_backup = "${hook}"\n`);
    const r = await runCli(["backup", "--config", cfg, "--unit", name], { env });
    expect(r.exitCode).toBe(1);
    const text = readFileSync(textfile, "utf8");
    expect(text).toContain(`kopi_docka_last_run_status{unit="${name}"} 1`);
    expect(text).toContain('kopi_docka_units{status="failed"} 1');
    expect(text).toContain(
      `kopi_docka_last_success_timestamp_seconds{unit="${name}"} ${Date.parse(good.finishedAt) / 1000}`,
    );
    const stats = await runCli(["history", "--stats", "--json", "--config", cfg], { env });
    expect(JSON.parse(stats.stdout)).toMatchObject([
      {
        unit: name,
        runs: 3,
        failed: 1,
        lastOkAt: good.startedAt,
        ahead: { runs: 1, latestAt: copy.startedAt },
      },
    ]);
  }, 180_000);
});

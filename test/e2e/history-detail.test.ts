import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { removeDockerObjects } from "../helpers/cleanup.ts";
import { cliArgv, runCli } from "../helpers/cli.ts";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

// history --id / --stats / --since against run records real backups wrote: two OK runs, one whose
// pre-backup hook failed (stderr tail kept), one cut short by SIGTERM.
describeReal("history detail on real run records", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-history-");
  const name = uniqueName("kdthist");
  const hook = join(dir.path, "hook.sh");
  const config = writeTestConfig(join(dir.path, "kd"), `\n[units.${name}]\npre_backup = "${hook}"\n`);
  const cli = (...args: string[]) => runCli([...args, "--config", config]);
  const json = async (...args: string[]) => {
    const r = await cli(...args, "--json");
    expect(r.stderr).not.toContain("Error");
    expect(r.exitCode).toBe(0);
    return JSON.parse(r.stdout);
  };
  const runIds: Record<string, string> = {};

  beforeAll(async () => {
    // fails when `fail` exists (with a few stderr lines), sleeps when `slow` exists
    writeFileSync(
      hook,
      `#!/bin/sh\nd=${dir.path}\nif [ -f $d/fail ]; then for i in 1 2 3; do echo "disk says no $i" >&2; done; exit 3; fi\nif [ -f $d/slow ]; then touch $d/in-hook; sleep 60; fi\nexit 0\n`,
      { mode: 0o755 },
    );
    await startContainer(name, name);
    const backup = async (label: string, expectExit: number, env: Record<string, string> = {}) => {
      const before = new Set(((await json("history")) as { runId: string }[]).map((r) => r.runId));
      const r = await runCli(["backup", "--unit", name, "--config", config], { env });
      expect(r.exitCode).toBe(expectExit);
      const after = (await json("history")) as { runId: string }[];
      runIds[label] = after.find((x) => !before.has(x.runId))?.runId ?? "";
    };
    await backup("ok1", 0);
    writeFileSync(join(dir.path, "fail"), "");
    await backup("failed", 1);
    await run(["rm", join(dir.path, "fail")]);
    writeFileSync(join(dir.path, "slow"), "");
    const child = Bun.spawn([...cliArgv(), "backup", "--unit", name, "--config", config], {
      env: { ...process.env, CI: "true", NO_COLOR: "1" },
      stdout: "ignore",
      stderr: "ignore",
    });
    for (let i = 0; i < 600 && !existsSync(join(dir.path, "in-hook")); i++) await Bun.sleep(100);
    child.kill("SIGTERM");
    expect(await child.exited).toBe(143);
    await run(["rm", join(dir.path, "slow")]);
    const all = (await json("history")) as { runId: string; interrupted?: string }[];
    runIds.interrupted = all.find((r) => r.interrupted)?.runId ?? "";
    // a kopia in front of the real one that fails the volume's snapshot with a few stderr lines
    const shim = join(dir.path, "shim");
    await run(["mkdir", "-p", shim]);
    writeFileSync(
      join(shim, "kopia"),
      `#!/bin/sh\ncase "$*" in *"snapshot create"*/volumes/*) for i in 1 2 3; do echo "ERROR blob store says no $i" >&2; done; exit 1;; esac\nexec ${Bun.which("kopia")} "$@"\n`,
      { mode: 0o755 },
    );
    await backup("kopiafail", 1, { PATH: `${shim}:${process.env.PATH}` });
    await backup("ok2", 0);
  }, 300_000);

  afterAll(async () => {
    await removeDockerObjects([name], [name]);
    dir.remove();
  }, 60_000);

  test("five runs recorded, newest first", async () => {
    const ids = ((await json("history")) as { runId: string }[]).map((r) => r.runId);
    expect(ids).toEqual([
      runIds.ok2,
      runIds.kopiafail,
      runIds.interrupted,
      runIds.failed,
      runIds.ok1,
    ] as string[]);
  });

  test("--id: a failed kopia snapshot keeps kopia's last stderr lines, shown under the error", async () => {
    const rec = await json("history", "--id", runIds.kopiafail as string);
    const err = rec.units[0].errors.find((e: { phase: string }) => e.phase === "snapshot");
    expect(err.message).toContain("blob store says no 3");
    expect(err.stderrTail).toBe(
      "ERROR blob store says no 1\nERROR blob store says no 2\nERROR blob store says no 3",
    );
    const text = (await cli("history", "--id", runIds.kopiafail as string)).stdout;
    expect(text).toContain("stderr (last lines):");
    expect(text).toMatch(/^ {8}ERROR blob store says no 1$/m);
  });

  test("--id: the failed run in full, the hook's stderr lines under its error", async () => {
    const r = await cli("history", "--id", runIds.failed as string);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`run ${runIds.failed}: failed`);
    expect(r.stdout).toContain(`unit ${name}: failed`);
    expect(r.stdout).toMatch(/pre_hook: pre_backup hook .* failed/);
    expect(r.stdout).toContain("disk says no 3");
    const rec = await json("history", "--id", runIds.failed as string);
    expect(rec.units[0].errors[0]).toMatchObject({
      phase: "pre_hook",
      message: expect.stringContaining("disk says no 1\ndisk says no 2\ndisk says no 3"),
    });
  });

  test("--id: the interrupted run names its signal; an OK run lists every snapshot with its id", async () => {
    const cut = await cli("history", "--id", runIds.interrupted as string);
    expect(cut.stdout).toContain(`run ${runIds.interrupted}: failed (interrupted by SIGTERM)`);
    expect(cut.stdout).toMatch(/interrupted: .*SIGTERM/);
    const ok = await json("history", "--id", (runIds.ok2 as string).slice(0, 20));
    expect(ok.runId).toBe(runIds.ok2);
    const text = (await cli("history", "--id", runIds.ok2 as string)).stdout;
    for (const s of ok.units[0].sources) {
      expect(s.snapshotId).toMatch(/^[0-9a-f]{32}$/);
      expect(text).toContain(s.snapshotId);
    }
    const missing = await cli("history", "--id", "19990101T000000Z-000000");
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain("no run record 19990101T000000Z-000000");
  });

  test("--stats: 5 runs, 2 ok, 2 failed + the cut one; durations and cold window from the records", async () => {
    const [s] = await json("history", "--stats");
    const all = (await json("history")) as {
      runId: string;
      units: { durationMs: number; status: string; coldWindowMs?: number }[];
    }[];
    // The SIGTERM lands in the pre-backup hook. Two writers record that run: the signal path (the unit
    // "skipped") and the normal path when it gets to finish (the hook killed: "failed"); on a loaded
    // machine either may be last. The stats must count what the record says.
    const cut = all.find((r) => r.runId === runIds.interrupted)?.units[0]?.status;
    expect(["skipped", "failed"]).toContain(cut as string);
    const skipped = cut === "skipped" ? 1 : 0;
    expect(s).toMatchObject({ unit: name, runs: 5, ok: 2, failed: 3 - skipped, skipped });
    const tried = all.flatMap((r) => r.units).filter((u) => u.status !== "skipped");
    expect(s.duration.maxMs).toBe(Math.max(...tried.map((u) => u.durationMs)));
    expect(s.duration.minMs).toBe(Math.min(...tried.map((u) => u.durationMs)));
    const cold = tried.flatMap((u) => (u.coldWindowMs === undefined ? [] : [u.coldWindowMs]));
    expect(cold.length).toBe(3); // the failed kopia run stopped the container too
    expect(s.coldWindow.maxMs).toBe(Math.max(...cold));
    const table = (await cli("history", "--stats")).stdout;
    expect(table).toMatch(new RegExp(`^${name}\\s+5\\s+2\\s+${3 - skipped}\\s+${skipped}\\s`, "m"));
  });

  test("--since: a time between runs keeps the later ones; a bad value is exit 2", async () => {
    const all = (await json("history")) as { runId: string; startedAt: string }[];
    const cut = all.find((r) => r.runId === runIds.interrupted)?.startedAt as string;
    const since = ((await json("history", "--since", cut)) as { runId: string }[]).map((r) => r.runId);
    expect(since).toEqual([runIds.ok2, runIds.kopiafail, runIds.interrupted] as string[]);
    expect(((await json("history", "--since", "1d")) as unknown[]).length).toBe(5);
    const bad = await cli("history", "--since", "last tuesday");
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("--since last tuesday: not a date");
  });
});

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createJournal } from "../../src/core/containers/journal.ts";
import { createBunRunner } from "../../src/core/process/runner.ts";
import {
  describeReal,
  QUICK_STOP,
  run,
  runTestContainer,
  startContainer,
  tempDir,
  uniqueName,
  writeTestConfig,
} from "../helpers/env.ts";

// A run killed with SIGKILL leaves a journal entry and a stopped container; the next `backup` (real
// docker + kopia, from source) must start that container under its lock before it does anything else.
const SOURCE_CLI = [process.execPath, join(import.meta.dir, "..", "..", "src", "cli.ts")];
const WRITE_AND_QUICK_STOP = `echo a > /data/a; ${QUICK_STOP}`;

/** A journal entry of a dead run for `container`, as that run would have written before its stop. */
async function recordDeadStop(journalDir: string, container: string): Promise<void> {
  const before = await state(container);
  createJournal(journalDir).record({
    runId: "20250101T000000Z-dead00",
    pid: Bun.spawnSync(["true"]).pid,
    pidStartTime: 1,
    unit: container,
    containerId: (await run(["docker", "inspect", "--format", "{{.Id}}", container])).stdout.trim(),
    containerName: container,
    stoppedAt: new Date().toISOString(),
    startedAt: before?.StartedAt ?? "",
  });
}

async function state(name: string): Promise<{ Running: boolean; StartedAt: string } | undefined> {
  const r = await run(["docker", "inspect", "--format", "{{json .State}}", name], { check: false });
  return r.exitCode === 0 ? JSON.parse(r.stdout) : undefined;
}

describeReal("backup heals what a dead run left stopped", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-crash-heal-");
  const name = uniqueName("kdt-crash-heal");
  const volume = `${name}-v`;
  const broken = uniqueName("kdt-heal-fail");
  const bindSource = join(dir.path, "bind-source");
  let config = "";
  const cli = (args: string[]) =>
    createBunRunner().run([...SOURCE_CLI, ...args, "--config", config], {
      check: false,
      env: { NO_COLOR: "1", CI: "true", KOPI_DOCKA_CONFIG: undefined },
      timeoutMs: 180_000,
    });

  beforeAll(async () => {
    config = writeTestConfig(dir.path, "[backup]\nstop_timeout = 2\n");
    await startContainer(name, volume, [], WRITE_AND_QUICK_STOP);
  }, 60_000);
  afterAll(async () => {
    await run(["docker", "rm", "-f", name, broken], { check: false });
    await run(["docker", "volume", "rm", "-f", volume], { check: false });
    dir.remove();
  }, 60_000);

  test("a journal entry of a dead pid for a really stopped container: `backup` starts it first, then backs it up", async () => {
    const journalDir = join(dir.path, "state", "journal");
    await recordDeadStop(journalDir, name);
    await run(["docker", "stop", "-t", "2", name]);
    expect((await state(name))?.Running).toBe(false);

    const r = await cli(["backup", "--unit", name, "--json"]);
    expect({ exit: r.exitCode, err: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, err: "" });
    const lines = r.stderr.split("\n");
    const healed = lines.findIndex((l) => l.includes(`recovered: started ${name}`));
    const work = lines.findIndex((l) => l.includes(`unit ${name}:`));
    expect(healed).toBeGreaterThanOrEqual(0);
    expect(work).toBeGreaterThan(healed);
    // Running again when discovery looked: this run stopped it for its own cold copy, and started it.
    const record = JSON.parse(r.stdout);
    expect(record.status).toBe("ok");
    expect(record.warnings).toEqual([`started ${name}, which a killed run had left stopped`]);
    expect(record.units[0].stopped).toEqual([name]);
    expect((await state(name))?.Running).toBe(true);
    expect(readdirSync(journalDir)).toEqual([]);
    const runs = readdirSync(join(dir.path, "state", "runs"));
    expect(
      runs.map((f) => JSON.parse(readFileSync(join(dir.path, "state", "runs", f), "utf8")).runId),
    ).toEqual([record.runId]);
  }, 240_000);

  test("a container the heal cannot start (its bind source gone): exit 4, restart_failed naming it, the journal keeps it", async () => {
    const journalDir = join(dir.path, "state", "journal");
    mkdirSync(bindSource);
    await runTestContainer(broken, ["--mount", `type=bind,source=${bindSource},target=/b`]);
    await recordDeadStop(journalDir, broken);
    await run(["docker", "stop", "-t", "2", broken]);
    rmSync(bindSource, { recursive: true });

    const r = await cli(["backup", "--unit", name, "--json"]);
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toContain(`CONTAINERS NOT RUNNING AGAIN: ${broken}`);
    const record = JSON.parse(r.stdout);
    expect(record.status).toBe("restart_failed");
    expect(record.restartFailed).toEqual([broken]);
    expect(record.errors[0]).toMatchObject({ phase: "start", item: broken });
    expect(record.errors[0].message).toContain("bind source path does not exist");
    // The unit asked for was backed up all the same.
    expect(record.units.map((u: { name: string; status: string }) => [u.name, u.status])).toEqual([
      [name, "ok"],
    ]);
    expect((await state(broken))?.Running).toBe(false);
    expect(readdirSync(journalDir)).toHaveLength(1);
  }, 240_000);

  // A restore heals first too (under its lock): what it could not start is still down after the restore.
  test("a restore after it (the same container still cannot start): restored all the same, exit 4 naming it, the journal keeps it", async () => {
    const journalDir = join(dir.path, "state", "journal");
    expect(readdirSync(journalDir)).toHaveLength(1);
    await run(["docker", "exec", name, "sh", "-c", "echo changed > /data/a"]);

    const r = await cli(["restore", "--unit", name, "--latest", "--yes", "--json"]);
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toContain(`nothing was rolled back), but ${broken} could not be started`);
    const result = JSON.parse(r.stdout);
    expect(result.restartFailed).toEqual([broken]);
    expect(result.warnings.join("\n")).toContain(
      `could not start ${broken}, which a killed run had left stopped`,
    );
    expect((await run(["docker", "exec", name, "cat", "/data/a"])).stdout).toBe("a\n");
    expect((await state(name))?.Running).toBe(true);
    expect((await state(broken))?.Running).toBe(false);
    expect(readdirSync(journalDir)).toHaveLength(1);
  }, 240_000);
});

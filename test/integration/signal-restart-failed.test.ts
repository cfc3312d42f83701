import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createBunRunner } from "../../src/core/process/runner.ts";
import { describeReal, run, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { backupInterruptedAtRead, startOnBigVolume } from "../helpers/interrupt.ts";

// SIGTERM while kopia reads a stopped container's data, and the container cannot start again (its bind
// source was removed meanwhile): before, the run exited 143 and its record and alert named no one.
const SOURCE_CLI = [process.execPath, join(import.meta.dir, "..", "..", "src", "cli.ts")];
const runner = createBunRunner();

describeReal("a restart the signal path cannot do", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-sig-down-");
  const name = uniqueName("kdt-sig-down");
  const volume = `${name}-v`;
  const conf = join(dir.path, "conf");
  const env = { NO_COLOR: "1", CI: "true", KOPI_DOCKA_CONFIG: undefined };
  let config = "";

  beforeAll(async () => {
    config = writeTestConfig(dir.path, "[backup]\nstop_timeout = 2\n");
    mkdirSync(conf);
    await startOnBigVolume(name, volume, { runArgs: ["--mount", `type=bind,source=${conf},target=/conf`] });
  }, 180_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
    await run(["docker", "volume", "rm", "-f", volume], { check: false });
    dir.remove();
  }, 60_000);

  test("exit 4, the record restart_failed naming the container, the journal keeps it; recover starts it", async () => {
    // kopia reads the ~320 MB volume for seconds once kopi-docka let it go after the stop.
    const { result, fired } = backupInterruptedAtRead({
      unit: name,
      volume,
      config,
      env,
      act: (pid) => {
        rmSync(conf, { recursive: true, force: true });
        process.kill(pid, "SIGTERM");
      },
    });
    const r = await result;
    expect({ fired: fired(), exit: r.exitCode }).toEqual({ fired: true, exit: 4 });
    expect(r.stderr).toContain(`start container ${name}`);

    const runs = join(dir.path, "state", "runs");
    const [file] = readdirSync(runs).filter((f) => f.endsWith(".json"));
    const record = JSON.parse(readFileSync(join(runs, file ?? ""), "utf8"));
    expect(record).toMatchObject({ status: "restart_failed", interrupted: "SIGTERM" });
    // Named once: by the run (the signal path's restart) or by its unit (when the normal path got to
    // the start first, sharing that restart), never both.
    const units: { restartFailed: string[]; errors: { phase: string; item?: string }[] }[] = record.units;
    expect([...(record.restartFailed ?? []), ...units.flatMap((u) => u.restartFailed)]).toEqual([name]);
    const errors = [...record.errors, ...units.flatMap((u) => u.errors)];
    expect(errors.some((e) => e.phase === "start" && e.item === name)).toBe(true);
    expect(readdirSync(join(dir.path, "state", "journal")).length).toBeGreaterThan(0);

    mkdirSync(conf);
    const recover = await runner.run([...SOURCE_CLI, "recover", "--config", config], { check: false, env });
    expect({ exit: recover.exitCode, err: recover.exitCode ? recover.stderr : "" }).toEqual({
      exit: 0,
      err: "",
    });
    expect((await run(["docker", "inspect", "-f", "{{.State.Running}}", name])).stdout.trim()).toBe("true");
    expect(existsSync(join(dir.path, "state", "journal"))).toBe(true);
  }, 300_000);
});

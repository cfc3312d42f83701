import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { createBunRunner } from "../../src/core/process/runner.ts";
import { describeReal, run, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { backupInterruptedAtRead, startOnBigVolume } from "../helpers/interrupt.ts";

// Something else (a systemd unit's `docker start`, a restart policy, a person) starts the container
// kopi-docka stopped while kopia reads its ~320 MB volume. kopi-docka's own `docker start` is then a
// no-op: before, the data read while the app ran was saved as a complete, ok restore point.
const SOURCE_CLI = [process.execPath, join(import.meta.dir, "..", "..", "src", "cli.ts")];
const runner = createBunRunner();

interface Point {
  runId: string;
  unit: string;
  complete: boolean;
}

describeReal("a container started by something else in the cold window", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-ran-");
  const name = uniqueName("kdt-ran");
  const volume = `${name}-v`;
  const env = { NO_COLOR: "1", CI: "true", KOPI_DOCKA_CONFIG: undefined };
  let config = "";
  const cli = (args: string[]) =>
    runner.run([...SOURCE_CLI, ...args, "--config", config], { check: false, env, timeoutMs: 300_000 });

  async function points(): Promise<Point[]> {
    const r = await cli(["snapshots", "--json"]);
    expect({ exit: r.exitCode, err: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, err: "" });
    return JSON.parse(r.stdout).points;
  }

  beforeAll(async () => {
    config = writeTestConfig(dir.path, "[backup]\nstop_timeout = 2\n");
    await startOnBigVolume(name, volume);
  }, 180_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
    await run(["docker", "volume", "rm", "-f", volume], { check: false });
    dir.remove();
  }, 60_000);

  test("the unit fails naming it, exit 1, its volume snapshot deleted: no complete point is offered", async () => {
    let started: Promise<unknown> | undefined;
    const { result, fired } = backupInterruptedAtRead({
      unit: name,
      volume,
      config,
      env,
      afterMs: 0,
      act: () => {
        started = run(["docker", "start", name]);
      },
    });
    const r = await result;
    await started;
    expect({ fired: fired(), exit: r.exitCode }).toEqual({ fired: true, exit: 1 });
    expect(r.stderr).toContain("started by something else");

    const listed = await cli(["history", "--json"]);
    const [record] = JSON.parse(listed.stdout);
    const unit = record.units[0];
    expect(unit.status).toBe("failed");
    expect(unit.errors[0]).toMatchObject({ phase: "stop", item: name });
    const vol = unit.sources.find((s: { type: string }) => s.type === "volume");
    expect(vol.status).toBe("failed");
    expect(vol.reason).toContain(`discarded: ${name} ran while its data was read`);
    expect((await points()).filter((p) => p.unit === name && p.complete)).toEqual([]);
    expect((await run(["docker", "inspect", "-f", "{{.State.Running}}", name])).stdout.trim()).toBe("true");
  }, 300_000);

  test("control: the next backup, with nobody else starting it, is ok and offers a complete point", async () => {
    const r = await cli(["backup", "--unit", name]);
    expect({ exit: r.exitCode, err: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, err: "" });
    expect((await points()).filter((p) => p.unit === name && p.complete)).toHaveLength(1);
  }, 300_000);
});

import { afterAll, beforeAll, expect, test } from "bun:test";
import { runCli } from "../helpers/cli.ts";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

const env = { KOPI_DOCKA_TEST_SOURCE: "1" };

// Two units mounting one volume: a cold backup of one stops only its own container, the other keeps
// writing. The plan and the run say the volume was read live, not that it is a cold copy.
describeReal("a volume another unit keeps writing", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kd-shared-");
  const app = uniqueName("kdt-shared-a");
  const worker = uniqueName("kdt-shared-w");
  const volume = `${app}-v`;
  const config = writeTestConfig(dir.path, "[backup]\nstop_timeout = 2\n");
  const cli = (...a: string[]) => runCli([...a, "--config", config], { env });

  beforeAll(async () => {
    await startContainer(app, volume);
    await startContainer(
      worker,
      volume,
      [],
      "trap 'exit 0' TERM; while true; do date > /data/w; sleep 0.1; done",
    );
  }, 120_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", app, worker], { check: false });
    await run(["docker", "volume", "rm", "-f", volume], { check: false });
    dir.remove();
  }, 60_000);

  test("the plan marks it, the run warns that it was read live, and the other unit was never stopped", async () => {
    const dry = await cli("backup", "--dry-run", "--unit", app);
    expect(dry.stdout).toContain(`ALSO WRITTEN by ${worker} (unit ${worker})`);
    const startedAt = (await run(["docker", "inspect", "-f", "{{.State.StartedAt}}", worker])).stdout;
    const r = await cli("backup", "--unit", app, "--json");
    expect({ exit: r.exitCode, stderr: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, stderr: "" });
    const [unit] = JSON.parse(r.stdout).units;
    expect(unit.warnings).toContain(
      `volume ${volume} is also written by ${worker} (unit ${worker}), which keeps running: it was read live, not a cold copy (put them in one unit: one compose project, or standalone containers with one kopi-docka.unit label)`,
    );
    expect((await run(["docker", "inspect", "-f", "{{.State.StartedAt}}", worker])).stdout).toBe(startedAt);
  }, 180_000);
});

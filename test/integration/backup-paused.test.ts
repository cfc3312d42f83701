import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

const env = { KOPI_DOCKA_TEST_SOURCE: "1" };

describeReal("backup: a container the admin paused", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kd-bk-paused-");
  const name = uniqueName("kdpaused");
  const volume = `${name}-v`;

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
    await run(["docker", "volume", "rm", "-f", volume], { check: false });
    dir.remove();
  }, 60_000);

  test("is backed up cold and found paused again afterwards", async () => {
    await startContainer(name, volume);
    await run(["docker", "exec", name, "sh", "-c", "echo frozen > /data/f"]);
    await run(["docker", "pause", name]);
    const cfg = writeTestConfig(join(dir.path, "kd"), "[backup]\nstop_timeout = 2\n");

    const r = await runCli(["backup", "--config", cfg, "--unit", name, "--json"], { env });
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    expect(r.stderr).toContain(`${name} paused again, as it was before the backup`);
    const unit = JSON.parse(r.stdout).units[0];
    expect(unit).toMatchObject({ name, status: "ok", stopped: [name] });
    expect(unit.sources.find((s: { type: string }) => s.type === "volume")).toMatchObject({ files: 1 });
    const state = await run(["docker", "inspect", "-f", "{{.State.Status}} {{.State.Paused}}", name]);
    expect(state.stdout.trim()).toBe("paused true");
  }, 180_000);
});

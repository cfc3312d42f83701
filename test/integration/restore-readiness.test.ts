import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { COMPOSES, runCompose } from "../helpers/compose.ts";
import {
  describeReal,
  run,
  startContainer,
  TEST_IMAGE,
  tempDir,
  uniqueName,
  volumeMountpoint,
  writeTestConfig,
} from "../helpers/env.ts";

const env = { KOPI_DOCKA_TEST_SOURCE: "1" };
/** Exits 3 at once when its data holds `bad`, as an app refusing its restored data would. */
const FAILS_ON_BAD = "[ -f /data/bad ] && exit 3; trap 'exit 0' TERM; while true; do sleep 0.2; done";

// A restore says whether what it started runs: a container that exits at once on its restored data is
// named (stderr and --json) and the restore ends with exit 4, its data restored all the same.
describeReal("restore: the containers it starts must run", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kd-restore-ready-");
  const config = writeTestConfig(dir.path, "[backup]\nstop_timeout = 2\nstart_timeout = 20\n");
  const cli = (...a: string[]) => runCli([...a, "--config", config], { env });
  const bad = uniqueName("kdready-bad");
  const good = uniqueName("kdready-good");
  const paused = uniqueName("kdready-paused");
  const state = async (name: string) =>
    (await run(["docker", "inspect", "-f", "{{.State.Status}}", name])).stdout.trim();

  beforeAll(async () => {
    await startContainer(bad, `${bad}-v`, [], FAILS_ON_BAD);
    await startContainer(good, `${good}-v`, [], FAILS_ON_BAD);
    await startContainer(paused, `${paused}-v`);
    // Written while it runs: the backup's snapshot holds it, so the restored data makes it fail.
    await run(["docker", "exec", bad, "touch", "/data/bad"]);
    await run(["docker", "exec", good, "sh", "-c", "echo good > /data/f"]);
    // The backup's own start of `bad` fails on that data (exit 4); its snapshots are whole.
    expect((await cli("backup", "--unit", bad)).exitCode).toBe(4);
    await run(["docker", "exec", paused, "sh", "-c", "echo at-backup > /data/f"]);
    expect((await cli("backup", "--unit", good)).exitCode).toBe(0);
    expect((await cli("backup", "--unit", paused)).exitCode).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", bad, good, paused], { check: false });
    const volumes = [bad, good, paused].map((n) => `${n}-v`);
    await run(["docker", "volume", "rm", "-f", ...volumes], { check: false });
    dir.remove();
  }, 60_000);

  test("--start of a container that exits at once on its data: exit 4, named with its state", async () => {
    await run(["docker", "rm", "-f", bad]);
    const r = await cli("restore", "--unit", bad, "--latest", "--start", "--yes", "--json");
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 4 });
    const out = JSON.parse(r.stdout);
    expect(out.volumes).toEqual([`${bad}-v`]);
    expect(out.restartFailed).toEqual([bad]);
    expect(out.notRunning).toMatchObject([
      { name: bad, state: "exited", next: `see why: docker logs ${bad}` },
    ]);
    expect(r.stderr).toContain(`not running: ${bad} (exited)`);
    expect(r.stderr).toContain("nothing was rolled back");
    expect(await state(bad)).toBe("exited");
  }, 180_000);

  test("in place: started again after the restore, it exits on the restored data: exit 4", async () => {
    await run(["rm", "-f", `${await volumeMountpoint(`${bad}-v`)}/bad`]);
    await run(["docker", "start", bad]);
    const r = await cli("restore", "--unit", bad, "--latest", "--yes");
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 4 });
    expect(r.stdout).toContain(`NOT RUNNING: ${bad} (exited)`);
    expect(await state(bad)).toBe("exited");
  }, 180_000);

  test("--start of one that runs on its data: exit 0, running", async () => {
    await run(["docker", "rm", "-f", good]);
    const r = await cli("restore", "--unit", good, "--latest", "--start", "--yes", "--json");
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    expect(JSON.parse(r.stdout)).toMatchObject({ started: [good] });
    expect(JSON.parse(r.stdout).notRunning).toBeUndefined();
    expect(await state(good)).toBe("running");
  }, 180_000);

  test("in place, a container paused before the restore is paused again after it, on the restored data", async () => {
    await run(["docker", "exec", paused, "sh", "-c", "echo changed > /data/f"]);
    await run(["docker", "pause", paused]);
    const r = await cli("restore", "--unit", paused, "--latest", "--yes", "--json");
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    expect(JSON.parse(r.stdout)).toMatchObject({ volumes: [`${paused}-v`], pausedAgain: [paused] });
    expect(r.stderr).toContain(`${paused} paused again, as it was before the restore`);
    const s = await run(["docker", "inspect", "-f", "{{.State.Status}} {{.State.Paused}}", paused]);
    expect(s.stdout.trim()).toBe("paused true");
    // Read through the container, paused as it is: `docker cp` needs no process in it.
    const f = await run(["sh", "-c", `docker cp ${paused}:/data/f - | tar -xO`]);
    expect(f.stdout).toBe("at-backup\n");
  }, 180_000);
});

// An init job of a compose project (`restart: on-failure`, exits 0 at once): docker never starts it
// again, so `--start` takes it for a finished job, not for a container that never came up (exit 4).
const cmp = COMPOSES[0];
if (cmp)
  describeReal(
    "restore --start: a compose init job under on-failure that exits 0",
    ["docker", "kopia", "image", cmp.need],
    () => {
      const env = { KOPI_DOCKA_TEST_SOURCE: "1", ...cmp.env };
      const dir = tempDir("kd-restore-init-");
      const project = uniqueName("kdinit").replace(/-/g, "");
      const stack = join(dir.path, "app");
      const composeFile = join(stack, "docker-compose.yml");
      const config = writeTestConfig(dir.path, `[backup]\nstop_timeout = 2\nstart_timeout = 20\n${cmp.toml}`);
      const compose = (...a: string[]) =>
        runCompose(cmp, ["-p", project, "-f", composeFile, ...a], { cwd: stack });

      beforeAll(async () => {
        mkdirSync(stack, { recursive: true });
        writeFileSync(
          composeFile,
          `version: "3"\nservices:\n  app:\n    image: ${TEST_IMAGE}\n    command: ["sleep", "3600"]\n    volumes: ["data:/data"]\n` +
            `  init:\n    image: ${TEST_IMAGE}\n    command: ["true"]\n    restart: on-failure\nvolumes:\n  data: {}\n`,
        );
        await compose("up", "-d");
        const r = await runCli(["backup", "--config", config, "--unit", project], { env });
        expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
      }, 180_000);

      afterAll(async () => {
        await compose("down", "-v").catch(() => {});
        dir.remove();
      }, 120_000);

      test("exit 0 at once, the init job not named", async () => {
        await compose("down");
        const r = await runCli(
          ["restore", "--config", config, "--unit", project, "--latest", "--start", "--yes", "--json"],
          { env },
        );
        expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
        expect(JSON.parse(r.stdout).notRunning).toBeUndefined();
        expect(r.stderr).toContain(`${cmp.container(project, "init")} ran and exited 0`);
      }, 180_000);
    },
  );

import { afterAll, beforeAll, expect, test } from "bun:test";
import { runCli } from "../helpers/cli.ts";
import { describeReal, run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

const env = { KOPI_DOCKA_TEST_SOURCE: "1" };
const LOOP = "trap 'exit 0' TERM INT; while true; do sleep 0.2; done";
const ok = (r: { exitCode: number | null; stderr: string }) => ({
  exit: r.exitCode,
  stderr: r.exitCode ? r.stderr : "",
});

// A unit of two standalone containers: `app` with a healthcheck, a stop signal and timeout and an
// exposed port of its own, and `side` on app's network (`--network container:app`, which docker
// records as app's id). Both removed, `restore --start` runs app first, then side on the new app's
// network by name, with app's settings as they were; before, side's run named the old id and failed.
// And a run that fails (its host port taken) leaves no "created" container behind: the retry works.
describeReal(
  "restore --start: a shared network, a healthcheck, a failed run",
  ["docker", "kopia", "image"],
  () => {
    const dir = tempDir("kd-restore-shared-");
    const unit = uniqueName("kdt-rshared");
    // `side` sorts first: the restore must still run it after app.
    const [side, app] = [`${unit}-a-side`, `${unit}-b-app`];
    const web = `${unit}-web`;
    const blocker = `${unit}-blocker`;
    const volume = `${unit}-v`;
    const port = String(20_000 + Math.floor(Math.random() * 30_000));
    const config = writeTestConfig(dir.path, "[backup]\nstop_timeout = 2\n");
    const cli = (...a: string[]) => runCli([...a, "--config", config], { env });
    const inspect = async (what: string, format: string) =>
      (await run(["docker", "inspect", "-f", format, what], { check: false })).stdout.trim();
    const settings = (c: string) =>
      inspect(
        c,
        "{{json .Config.Healthcheck}} {{json .Config.StopSignal}} {{json .Config.StopTimeout}} {{json .Config.ExposedPorts}}",
      );
    const mac = async (c: string) =>
      (await run(["docker", "exec", c, "cat", "/sys/class/net/eth0/address"])).stdout;
    let before = "";

    beforeAll(async () => {
      const label = ["--label", `kopi-docka.unit=${unit}`];
      await run([
        ...["docker", "run", "-d", "--name", app, ...label, "-v", `${volume}:/data`],
        ...["--health-cmd", "test -e /data/d", "--health-interval", "1s", "--health-retries", "3"],
        ...["--stop-signal", "SIGINT", "--stop-timeout", "7", "--expose", "9000/udp"],
        ...[TEST_IMAGE, "sh", "-c", LOOP],
      ]);
      await run(["docker", "exec", app, "sh", "-c", "echo data > /data/d"]);
      await run([
        "docker",
        "run",
        "-d",
        "--name",
        side,
        ...label,
        "--network",
        `container:${app}`,
        TEST_IMAGE,
        "sh",
        "-c",
        LOOP,
      ]);
      await run([
        "docker",
        "run",
        "-d",
        "--name",
        web,
        "-p",
        `127.0.0.1:${port}:80`,
        TEST_IMAGE,
        "sh",
        "-c",
        LOOP,
      ]);
      before = await settings(app);
      for (const u of [unit, web])
        expect(ok(await cli("backup", "--unit", u))).toEqual({ exit: 0, stderr: "" });
    }, 240_000);

    afterAll(async () => {
      await run(["docker", "rm", "-f", side, app, web, blocker], { check: false });
      await run(["docker", "volume", "rm", "-f", volume], { check: false });
      dir.remove();
    }, 60_000);

    test("side runs on the new app's network, app with its healthcheck, stop signal, timeout and port", async () => {
      await run(["docker", "rm", "-f", side, app]);
      await run(["docker", "volume", "rm", volume]);
      const dry = await cli("restore", "--unit", unit, "--latest", "--start", "--dry-run");
      expect(ok(dry)).toEqual({ exit: 0, stderr: "" });
      expect(dry.stdout).toContain(`warning: ${side}: uses ${app}'s network, as recorded in the backup\n`);

      const r = await cli("restore", "--unit", unit, "--latest", "--start", "--yes");
      expect(ok(r)).toEqual({ exit: 0, stderr: "" });
      for (const c of [app, side]) expect(await inspect(c, "{{.State.Running}}")).toBe("true");
      expect(await inspect(side, "{{.HostConfig.NetworkMode}}")).toBe(
        `container:${await inspect(app, "{{.Id}}")}`,
      );
      expect(await mac(side)).toBe(await mac(app));
      expect(await settings(app)).toBe(before);
      expect(before).toContain('"SIGINT" 7 {"9000/udp":{}}');
      expect((await run(["docker", "exec", app, "cat", "/data/d"])).stdout).toBe("data\n");
    }, 300_000);

    test("a run that fails (its port taken) removes the container it created; once free, the retry starts it", async () => {
      await run(["docker", "rm", "-f", web]);
      await run([
        "docker",
        "run",
        "-d",
        "--name",
        blocker,
        "-p",
        `127.0.0.1:${port}:80`,
        TEST_IMAGE,
        "sh",
        "-c",
        LOOP,
      ]);
      const failed = await cli("restore", "--unit", web, "--latest", "--start", "--yes");
      expect(failed.exitCode).toBe(1);
      expect(failed.stderr).toContain("port is already allocated");
      expect((await run(["docker", "inspect", web], { check: false })).exitCode).not.toBe(0);

      await run(["docker", "rm", "-f", blocker]);
      const r = await cli("restore", "--unit", web, "--latest", "--start", "--yes");
      expect(ok(r)).toEqual({ exit: 0, stderr: "" });
      expect(await inspect(web, "{{.State.Running}}")).toBe("true");
    }, 300_000);
  },
);

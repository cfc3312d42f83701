import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { adoptionWarnings, describeCompose, runCompose } from "../helpers/compose.ts";
import { run, TEST_IMAGE, tempDir, uniqueName, volumeMountpoint, writeTestConfig } from "../helpers/env.ts";
import { describeTree } from "../helpers/tree.ts";

describeCompose(
  "restore: a compose stack comes back byte for byte, in place and side by side",
  ["docker", "kopia", "image"],
  (cmp) => {
    const env = { KOPI_DOCKA_TEST_SOURCE: "1", ...cmp.env };
    const dir = tempDir("kd-restore-");
    const project = uniqueName("kdr").replace(/-/g, "");
    const stack = join(dir.path, "stack");
    const bind = join(dir.path, "bind-data");
    const config = writeTestConfig(dir.path, `[backup]\nstop_timeout = 2\n${cmp.toml}`);
    const compose = (...a: string[]) =>
      runCompose(cmp, ["-p", project, "-f", join(stack, "docker-compose.yml"), ...a], { cwd: stack });
    const app = cmp.container(project, "app");
    let atBackup: { volume: ReturnType<typeof describeTree>; bind: ReturnType<typeof describeTree> };

    beforeAll(async () => {
      mkdirSync(stack, { recursive: true });
      mkdirSync(join(bind, "sub", "empty"), { recursive: true });
      writeFileSync(join(bind, "sub", "conf.txt"), "bind content\n");
      writeFileSync(
        join(stack, "docker-compose.yml"),
        `version: "3"\nservices:\n  app:\n    image: ${TEST_IMAGE}\n    command: ["sleep", "3600"]\n` +
          `    volumes:\n      - data:/data\n      - ${bind}:/bind\n    networks: [back]\n` +
          "volumes:\n  data:\nnetworks:\n  back:\n",
      );
      writeFileSync(join(stack, ".env"), "MODE=test\n");
      await compose("up", "-d");
      await run([
        "docker",
        "exec",
        app,
        "sh",
        "-c",
        "mkdir -p /data/sub/empty && echo hello > /data/a.txt && head -c 200000 /dev/urandom > /data/sub/blob && " +
          "chown 1000:1000 /data/sub/blob && chmod 640 /data/sub/blob && ln -s a.txt /data/link && " +
          "touch -d '2020-01-02 03:04:05' /data/a.txt && chmod 711 /data",
      ]);
      atBackup = {
        volume: describeTree(await volumeMountpoint(`${project}_data`)),
        bind: describeTree(bind),
      };
      const r = await runCli(["backup", "--config", config, "--unit", project], { env });
      expect(r.exitCode).toBe(0);
    }, 240_000);

    afterAll(async () => {
      await compose("down", "-v").catch(() => {});
      const copy = `${project}copy`;
      await runCompose(
        cmp,
        ["-p", copy, "-f", join(dir.path, "stacks", copy, "docker-compose.yml"), "down", "-v"],
        {
          check: false,
        },
      );
      dir.remove();
    }, 120_000);

    test("deleted containers, volume, network and bind: restore --latest --yes --start brings all back", async () => {
      await compose("down", "-v");
      rmSync(bind, { recursive: true, force: true });
      const r = await runCli(
        ["restore", "--config", config, "--unit", project, "--latest", "--yes", "--start"],
        {
          env,
        },
      );
      expect(r.stderr).not.toMatch(/\berror\b/); // not the policy flag --ignore-file-errors=false
      expect(r.exitCode).toBe(0);
      expect(describeTree(await volumeMountpoint(`${project}_data`))).toEqual(atBackup.volume);
      expect(describeTree(bind)).toEqual(atBackup.bind);
      const state = await run(["docker", "inspect", "-f", "{{.State.Running}}", app]);
      expect(state.stdout.trim()).toBe("true");
      // In place: the compose files are back where the stack was started from.
      const target = stack;
      const again = await runCompose(
        cmp,
        ["-p", project, "-f", join(target, "docker-compose.yml"), "up", "-d"],
        { cwd: target },
      );
      expect(adoptionWarnings(again.stderr)).toEqual([]);
    }, 240_000);

    test("in place over changed content reverts it; the undo point brings the change back", async () => {
      const c = app;
      await run(["docker", "exec", c, "sh", "-c", "echo changed > /data/a.txt && echo extra > /data/extra"]);
      const changed = describeTree(await volumeMountpoint(`${project}_data`));
      const r = await runCli(
        [
          "restore",
          "--config",
          config,
          "--unit",
          project,
          "--latest",
          "--only",
          "volumes",
          "--yes",
          "--json",
        ],
        { env },
      );
      expect(r.exitCode).toBe(0);
      const result = JSON.parse(r.stdout) as { undoPoint: string };
      expect(describeTree(await volumeMountpoint(`${project}_data`))).toEqual(atBackup.volume);
      expect((await run(["docker", "inspect", "-f", "{{.State.Running}}", c])).stdout.trim()).toBe("true");
      const undo = await runCli(
        ["restore", "--config", config, "--unit", project, "--run", result.undoPoint, "--yes"],
        {
          env,
        },
      );
      expect(undo.exitCode).toBe(0);
      expect(describeTree(await volumeMountpoint(`${project}_data`))).toEqual(changed);
    }, 240_000);

    test("--from-host on another host and --as: a side-by-side copy, the original untouched", async () => {
      const other = writeTestConfig(join(dir.path, "other"), cmp.toml);
      const otherToml = Bun.file(other);
      await Bun.write(
        other,
        (await otherToml.text())
          .replace(/^path = .*$/m, `path = "${dir.path}/repository"`)
          .replace(/^password_file = .*$/m, `password_file = "${dir.path}/repository.password"`)
          .replace("kd-test-host", "kd-other-host")
          .replace(/^restore_dir = .*$/m, `restore_dir = "${dir.path}/stacks"`),
      );
      const list = await runCli(["snapshots", "--config", other, "--json"], { env });
      expect(JSON.parse(list.stdout).points[0].host).toBe("kd-test-host");
      const before = describeTree(await volumeMountpoint(`${project}_data`));
      const copy = `${project}copy`;
      const r = await runCli(
        [
          "restore",
          "--config",
          other,
          "--unit",
          project,
          "--latest",
          "--from-host",
          "kd-test-host",
          "--as",
          copy,
          "--yes",
        ],
        { env },
      );
      expect(r.exitCode).toBe(0);
      expect(describeTree(await volumeMountpoint(`${copy}_data`))).toEqual(atBackup.volume);
      expect(describeTree(await volumeMountpoint(`${project}_data`))).toEqual(before);
      const labels = await run(["docker", "volume", "inspect", "-f", "{{json .Labels}}", `${copy}_data`]);
      expect(JSON.parse(labels.stdout)).toMatchObject({ "com.docker.compose.project": copy });
    }, 240_000);

    test("without a terminal and without choices: exit 2 naming the missing flags", async () => {
      const r = await runCli(["restore", "--config", config], { env });
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain("--unit");
      expect(r.stderr).toContain("--latest");
    });
  },
);

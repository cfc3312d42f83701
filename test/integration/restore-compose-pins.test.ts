import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { describeCompose, runCompose } from "../helpers/compose.ts";
import { run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

/**
 * A compose service whose data is in an anonymous volume (`- /anon`, as an image's `VOLUME` with no
 * named mapping would be) and in a bind written with a variable (`${UPLOAD_LOCATION}:/upload`, as
 * Immich's), restored in place with `--start` after `down -v` and with the project directory and the
 * bind gone: the restored container must see the backed-up files at both paths.
 */
describeCompose(
  "restore --start: a compose service's anonymous volume and variable bind come back with their data",
  ["docker", "kopia", "image"],
  (cmp) => {
    const env = { KOPI_DOCKA_TEST_SOURCE: "1", ...cmp.env };
    const dir = tempDir("kd-anon-");
    const project = uniqueName("kda").replace(/-/g, "");
    const stack = join(dir.path, "app");
    const composeFile = join(stack, "docker-compose.yml");
    const upload = join(dir.path, "upload");
    const config = writeTestConfig(dir.path, `[backup]\nstop_timeout = 2\n${cmp.toml}`);
    const app = cmp.container(project, "app");
    const volumes = new Set<string>();

    const anonVolume = async () => {
      const r = await run([
        "docker",
        "inspect",
        "-f",
        '{{range .Mounts}}{{if eq .Destination "/anon"}}{{.Name}}{{end}}{{end}}',
        app,
      ]);
      const name = r.stdout.trim();
      volumes.add(name);
      return name;
    };
    const teardown = async () => {
      await run(["docker", "rm", "-f", app], { check: false });
      for (const v of volumes) await run(["docker", "volume", "rm", v], { check: false });
      await run(["docker", "network", "rm", `${project}_default`], { check: false });
    };

    beforeAll(async () => {
      mkdirSync(stack, { recursive: true });
      writeFileSync(
        composeFile,
        `version: "3"\nservices:\n  app:\n    image: ${TEST_IMAGE}\n    command: ["sleep", "3600"]\n` +
          // biome-ignore lint/suspicious/noTemplateCurlyInString: compose's variable, from the .env file
          '    volumes:\n      - /anon\n      - "${UPLOAD_LOCATION}:/upload"\n',
      );
      writeFileSync(join(stack, ".env"), `UPLOAD_LOCATION=${upload}\n`);
      mkdirSync(upload);
      writeFileSync(join(upload, "photo.jpg"), "a photo\n");
      await runCompose(cmp, ["-p", project, "-f", composeFile, "up", "-d"], { cwd: stack });
      await run(["docker", "exec", app, "sh", "-c", "echo restored-data > /anon/a.txt"]);
      await anonVolume();
      const r = await runCli(["backup", "--config", config, "--unit", project], { env });
      expect(r.exitCode).toBe(0);
    }, 240_000);

    afterAll(async () => {
      await teardown();
      dir.remove();
    }, 120_000);

    test("clean slate (down -v, project directory and bind gone): the data is at /anon and /upload", async () => {
      const before = await anonVolume();
      await runCompose(cmp, ["-p", project, "-f", composeFile, "down", "-v"], { cwd: stack });
      renameSync(stack, `${stack}.moved`);
      rmSync(upload, { recursive: true });
      const r = await runCli(
        ["restore", "--config", config, "--unit", project, "--latest", "--start", "--yes"],
        { env },
      );
      expect(r.stderr).not.toContain("REFUSED");
      expect(r.exitCode).toBe(0);
      const cat = await run(["docker", "exec", app, "cat", "/anon/a.txt"], { check: false });
      expect(cat.stdout).toBe("restored-data\n");
      expect(await anonVolume()).toBe(before);
      const photo = await run(["docker", "exec", app, "cat", "/upload/photo.jpg"], { check: false });
      expect(photo.stdout).toBe("a photo\n");
      expect(readFileSync(join(stack, "docker-compose.kopi-docka.yml"), "utf8")).toContain(
        `"${before}:/anon"`,
      );

      // The admin's own later `up --force-recreate`, without the override: compose carries the volume over.
      await runCompose(cmp, ["-p", project, "-f", composeFile, "up", "-d", "--force-recreate"], {
        cwd: stack,
      });
      const again = await run(["docker", "exec", app, "cat", "/anon/a.txt"], { check: false });
      expect(again.stdout).toBe("restored-data\n");
      rmSync(`${stack}.moved`, { recursive: true, force: true });
    }, 240_000);
  },
);

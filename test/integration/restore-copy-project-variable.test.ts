import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { describeCompose, runCompose } from "../helpers/compose.ts";
import { QUICK_STOP, run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

/**
 * A compose unit named by its `.env` (CRLF, `export` and a duplicate line with a comment) whose
 * container_name and volume name come from `${COMPOSE_PROJECT_NAME}`. A copy's `.env` is rewritten to
 * name the copy, so compose gives the copy's container `COPY-web`: `--as COPY --start` brings it up
 * beside the running original (once refused as "from a variable"), the original left as it was.
 */
describeCompose(
  "restore --as --start of a compose unit whose container_name is $COMPOSE_PROJECT_NAME-web",
  ["docker", "kopia", "image"],
  (cmp) => {
    const env = { KOPI_DOCKA_TEST_SOURCE: "1", ...cmp.env };
    const dir = tempDir("kd-copyvar-");
    const project = uniqueName("kdcv").replace(/-/g, "");
    const copy = `${project}copy`;
    const stack = join(dir.path, "app");
    const config = writeTestConfig(dir.path, `[backup]\nstop_timeout = 2\n${cmp.toml}`);
    const web = (p: string) => `${p}-web`;
    // As the compose file writes it, for compose to interpolate.
    const V = "$" + "{COMPOSE_PROJECT_NAME}";
    const sh = async (c: string, script: string) =>
      (await run(["docker", "exec", c, "sh", "-c", script])).stdout.trim();
    const inspect = async (c: string) => {
      const r = await run(["docker", "inspect", "-f", "{{.Id}} {{.State.Running}} {{json .Mounts}}", c]);
      const [id, running, mounts] = r.stdout.trim().split(" ");
      const volumes = (JSON.parse(mounts ?? "[]") as { Name?: string }[]).map((m) => m.Name);
      return { id, running, volumes };
    };
    const teardown = async () => {
      const ids = async (ls: string[]) =>
        (await run([...ls, "-q", "--filter", `name=${project}`])).stdout.split("\n").filter(Boolean);
      const containers = await ids(["docker", "ps", "-a"]);
      if (containers.length) await run(["docker", "rm", "-f", ...containers], { check: false });
      const volumes = await ids(["docker", "volume", "ls"]);
      if (volumes.length) await run(["docker", "volume", "rm", "-f", ...volumes], { check: false });
      const networks = await ids(["docker", "network", "ls"]);
      if (networks.length) await run(["docker", "network", "rm", ...networks], { check: false });
    };
    const before = { id: "", running: "", volumes: [] as (string | undefined)[] };

    beforeAll(async () => {
      mkdirSync(stack, { recursive: true });
      writeFileSync(
        join(stack, ".env"),
        `export COMPOSE_PROJECT_NAME="${project}"\r\nCOMPOSE_PROJECT_NAME=${project} # dup\r\n`,
      );
      writeFileSync(
        join(stack, "docker-compose.yml"),
        `version: "3.5"\nservices:\n  web:\n    image: ${TEST_IMAGE}\n    command: ["sh", "-c", "${QUICK_STOP}"]\n` +
          `    container_name: ${V}-web\n    volumes: [data:/data]\n` +
          `volumes:\n  data:\n    name: ${V}_data\n`,
      );
      // No -p: compose names the project from the .env, as its user does.
      await runCompose(cmp, ["up", "-d"], { cwd: stack });
      await sh(web(project), "echo backed-up > /data/f");
      const r = await runCli(["backup", "--config", config, "--unit", project], { env });
      expect(r.exitCode).toBe(0);
      // The original goes on after the backup: what it writes is never the copy's.
      await sh(web(project), "echo after > /data/f");
      Object.assign(before, await inspect(web(project)));
      expect(before).toMatchObject({ running: "true", volumes: [`${project}_data`] });
    }, 240_000);

    afterAll(async () => {
      await teardown();
      dir.remove();
    }, 120_000);

    test("the copy starts as COPY-web on its own volume with the backup's data; the original runs on", async () => {
      const r = await runCli(
        ["restore", "--config", config, "--unit", project, "--latest", "--yes", "--as", copy, "--start"],
        { env },
      );
      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
      const mine = await inspect(web(copy));
      expect(mine.running).toBe("true");
      expect(mine.volumes).toHaveLength(1);
      expect(mine.volumes[0]).not.toBe(`${project}_data`);
      expect(mine.volumes[0]?.startsWith(`${copy}_`)).toBe(true);
      expect(await sh(web(copy), "cat /data/f")).toBe("backed-up");
      // The original: the same container, still running, its data its own.
      expect(await inspect(web(project))).toEqual(before);
      expect(await sh(web(project), "cat /data/f")).toBe("after");
    }, 240_000);

    test("COMPOSE_PROJECT_NAME set otherwise in kopi-docka's environment (compose takes it): refused", async () => {
      const other = `${project}other`;
      const r = await runCli(
        ["restore", "--config", config, "--unit", project, "--latest", "--as", other, "--start", "--dry-run"],
        { env: { ...env, COMPOSE_PROJECT_NAME: project } },
      );
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain("service web: its container_name comes from a variable");
    }, 120_000);
  },
);

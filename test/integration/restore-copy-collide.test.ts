import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { describeCompose, runCompose } from "../helpers/compose.ts";
import { QUICK_STOP, run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

/**
 * A compose unit that fixes its container's name (`container_name:`) and publishes a fixed host port,
 * restored side by side (`--as COPY --start`) while the original runs. The copy's `compose up` would
 * fail on both (docker names are unique; the port is taken) after its data was restored, with half
 * of it made: the plan refuses --start up front, naming both, and changes nothing.
 */
describeCompose(
  "restore --as of a compose unit with a fixed container name and host port",
  ["docker", "kopia", "image"],
  (cmp) => {
    const env = { KOPI_DOCKA_TEST_SOURCE: "1", ...cmp.env };
    const dir = tempDir("kd-copycollide-");
    const project = uniqueName("kdcc").replace(/-/g, "");
    const copy = `${project}copy`;
    const stack = join(dir.path, "app");
    const config = writeTestConfig(dir.path, `[backup]\nstop_timeout = 2\n${cmp.toml}`);
    // A loopback port of its own per run: free on this host, held by the original once it runs.
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const restore = (...extra: string[]) =>
      runCli(
        ["restore", "--config", config, "--unit", project, "--latest", "--yes", "--as", copy, ...extra],
        {
          env,
        },
      );
    const named = async (kind: "ps" | "volume", filter: string) =>
      (
        await run(
          kind === "ps"
            ? ["docker", "ps", "-a", "-q", "--filter", `name=${filter}`]
            : ["docker", "volume", "ls", "-q", "--filter", `name=${filter}`],
        )
      ).stdout
        .split("\n")
        .filter(Boolean);

    beforeAll(async () => {
      mkdirSync(stack, { recursive: true });
      writeFileSync(
        join(stack, "docker-compose.yml"),
        `version: "3.5"\nservices:\n  app:\n    image: ${TEST_IMAGE}\n    command: ["sh", "-c", "${QUICK_STOP}"]\n` +
          `    container_name: ${project}-app\n    ports: ["127.0.0.1:${port}:80"]\n    volumes: [data:/data]\n` +
          "volumes:\n  data: {}\n",
      );
      await runCompose(cmp, ["-p", project, "up", "-d"], { cwd: stack });
      await run(["docker", "exec", `${project}-app`, "sh", "-c", "echo backed-up > /data/f"]);
      const r = await runCli(["backup", "--config", config, "--unit", project], { env });
      expect(r.exitCode).toBe(0);
    }, 240_000);

    afterAll(async () => {
      const containers = await named("ps", project);
      if (containers.length) await run(["docker", "rm", "-f", ...containers], { check: false });
      const volumes = await named("volume", project);
      if (volumes.length) await run(["docker", "volume", "rm", "-f", ...volumes], { check: false });
      await run(["docker", "network", "rm", `${project}_default`, `${copy}_default`], { check: false });
      dir.remove();
    }, 120_000);

    test("--start refused, naming the container name and the port; nothing of the copy is made", async () => {
      const r = await restore("--start");
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(`container_name ${project}-app is taken`);
      expect(r.stderr).toContain(
        `host port 127.0.0.1:${port}/tcp is published by the original's ${project}-app`,
      );
      expect(await named("ps", copy)).toEqual([]);
      expect(await named("volume", copy)).toEqual([]);
      const state = await run(["docker", "inspect", "-f", "{{.State.Running}}", `${project}-app`]);
      expect(state.stdout.trim()).toBe("true");
    }, 240_000);

    test("without --start the data is restored for the copy, and both are warnings", async () => {
      const r = await restore();
      expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
      expect(r.stdout).toContain(`warning: service app: container_name ${project}-app is taken`);
      expect(r.stdout).toContain(`host port 127.0.0.1:${port}/tcp is published`);
      expect(await named("volume", `${copy}_data`)).toEqual([`${copy}_data`]);
    }, 240_000);
  },
);

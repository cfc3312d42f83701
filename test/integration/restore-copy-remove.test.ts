import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { describeCompose, runCompose } from "../helpers/compose.ts";
import { QUICK_STOP, run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

/**
 * A side-by-side copy (`restore --as COPY --start`) of a compose unit whose project name its own files
 * set: a `.env` with `COMPOSE_PROJECT_NAME` (compose v1 and v2), or a top-level `name:` (v2 only).
 * `compose down -v` run in the copy's directory without `-p`, as anyone removing the copy would, must
 * remove the copy and nothing of the original: the copy's files name the copy's project.
 */
describeCompose(
  "compose down -v in a copy's directory removes the copy only",
  ["docker", "kopia", "image"],
  (cmp) => {
    const env = { KOPI_DOCKA_TEST_SOURCE: "1", ...cmp.env };
    const dir = tempDir("kd-copyrm-");
    const config = writeTestConfig(dir.path, `[backup]\nstop_timeout = 2\n${cmp.toml}`);
    const app = (p: string) => cmp.container(p, "app");
    const base = uniqueName("kdcr").replace(/-/g, "");
    /** How each case names its project in its own files. */
    const cases = [
      { how: "env", file: "docker-compose.yml", head: 'version: "3.5"\n' },
      ...(cmp.name === "v2" ? [{ how: "name", file: "compose.yaml", head: "" }] : []),
    ];

    const sh = async (c: string, script: string) =>
      (await run(["docker", "exec", c, "sh", "-c", script])).stdout;
    const running = async (c: string) =>
      (await run(["docker", "inspect", "-f", "{{.State.Running}}", c], { check: false })).stdout.trim();
    const volumeExists = async (v: string) =>
      (await run(["docker", "volume", "inspect", v], { check: false })).exitCode === 0;

    afterAll(async () => {
      const ids = async (ls: string[]) =>
        (await run([...ls, "-q", "--filter", `name=${base}`])).stdout.split("\n").filter(Boolean);
      const containers = await ids(["docker", "ps", "-a"]);
      if (containers.length) await run(["docker", "rm", "-f", ...containers], { check: false });
      const volumes = await ids(["docker", "volume", "ls"]);
      if (volumes.length) await run(["docker", "volume", "rm", "-f", ...volumes], { check: false });
      const networks = await ids(["docker", "network", "ls"]);
      if (networks.length) await run(["docker", "network", "rm", ...networks], { check: false });
      dir.remove();
    }, 120_000);

    for (const c of cases) {
      const project = `${base}${c.how}`;
      const copy = `${project}copy`;
      const stack = join(dir.path, `app-${c.how}`);

      beforeAll(async () => {
        mkdirSync(stack, { recursive: true });
        const name = c.how === "name" ? `name: ${project}\n` : "";
        writeFileSync(
          join(stack, c.file),
          `${c.head}${name}services:\n  app:\n    image: ${TEST_IMAGE}\n    command: ["sh", "-c", "${QUICK_STOP}"]\n` +
            "    volumes: [pdata:/data]\nvolumes:\n  pdata: {}\n",
        );
        if (c.how === "env") writeFileSync(join(stack, ".env"), `A=1\nCOMPOSE_PROJECT_NAME=${project}\n`);
        // No -p: the project's own files name it.
        await runCompose(cmp, ["up", "-d"], { cwd: stack });
        expect(await running(app(project))).toBe("true");
        await sh(app(project), "echo original > /data/blob");
        const r = await runCli(["backup", "--config", config, "--unit", project], { env });
        expect(r.exitCode).toBe(0);
      }, 240_000);

      test(`project named by ${c.how === "env" ? "the .env" : "name:"}: the copy's files name the copy; down -v there leaves the original`, async () => {
        const r = await runCli(
          ["restore", "--config", config, "--unit", project, "--latest", "--as", copy, "--start", "--yes"],
          { env },
        );
        expect(r.exitCode).toBe(0);
        expect(await sh(app(copy), "cat /data/blob")).toBe("original\n");
        const copyDir = join(dir.path, "stacks", copy);
        // What anyone removing the copy runs: compose in its directory, no -p.
        const down = await runCompose(cmp, ["down", "-v"], { cwd: copyDir, check: false });
        expect(down.exitCode).toBe(0);
        expect(await running(app(project))).toBe("true");
        expect(await volumeExists(`${project}_pdata`)).toBe(true);
        expect(await sh(app(project), "cat /data/blob")).toBe("original\n");
        expect(await running(app(copy))).toBe("");
        expect(await volumeExists(`${copy}_pdata`)).toBe(false);
        // Because the copy's own files name the copy.
        if (c.how === "env")
          expect(readFileSync(join(copyDir, ".env"), "utf8")).toBe(`A=1\nCOMPOSE_PROJECT_NAME=${copy}\n`);
        else expect(readFileSync(join(copyDir, c.file), "utf8")).toStartWith(`name: ${copy}\n`);
      }, 240_000);
    }
  },
);

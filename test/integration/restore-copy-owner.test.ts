import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { describeCompose, runCompose } from "../helpers/compose.ts";
import { QUICK_STOP, run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

/**
 * A copy (`--as NAME`) names its volumes NAME_<key>: with NAME another compose project on this host,
 * that is the other project's data. The copy is refused before anything stops; a copy of the unit
 * made before is restored into again.
 */
describeCompose("restore --as NAME where NAME is another project", ["docker", "kopia", "image"], (cmp) => {
  const env = { KOPI_DOCKA_TEST_SOURCE: "1", ...cmp.env };
  const dir = tempDir("kd-copyowner-");
  const shop = uniqueName("kdco").replace(/-/g, "");
  const blog = `${shop}blog`;
  const copy = `${shop}copy`;
  const config = writeTestConfig(dir.path, `[backup]\nstop_timeout = 2\n${cmp.toml}`);
  const restore = (as: string) =>
    runCli(
      ["restore", "--config", config, "--unit", shop, "--latest", "--yes", "--as", as, "--only", "volumes"],
      {
        env,
      },
    );
  /** The file in a volume, read from inside a container that mounts it. */
  const inVolume = async (volume: string) =>
    (await run(["docker", "run", "--rm", "-v", `${volume}:/data`, TEST_IMAGE, "cat", "/data/f"])).stdout;
  /** A project's app container (compose v1 names it p_app_1, v2 p-app-1). */
  const appOf = async (name: string) =>
    (await run(["docker", "ps", "-q", "--filter", `label=com.docker.compose.project=${name}`])).stdout.trim();
  const project = async (name: string, content: string) => {
    const stack = join(dir.path, name);
    mkdirSync(stack, { recursive: true });
    writeFileSync(
      join(stack, "docker-compose.yml"),
      `version: "3.5"\nservices:\n  app:\n    image: ${TEST_IMAGE}\n    command: ["sh", "-c", "${QUICK_STOP}"]\n` +
        "    volumes: [data:/data]\nvolumes:\n  data: {}\n",
    );
    await runCompose(cmp, ["-p", name, "up", "-d"], { cwd: stack });
    await run(["docker", "exec", await appOf(name), "sh", "-c", `echo ${content} > /data/f`]);
  };

  beforeAll(async () => {
    await project(shop, "shop-data");
    await project(blog, "blog-data");
    const r = await runCli(["backup", "--config", config, "--unit", shop], { env });
    expect(r.exitCode).toBe(0);
  }, 240_000);

  afterAll(async () => {
    for (const p of [shop, blog, copy]) {
      const ids = (
        await run(["docker", "ps", "-aq", "--filter", `label=com.docker.compose.project=${p}`])
      ).stdout
        .split("\n")
        .filter(Boolean);
      if (ids.length) await run(["docker", "rm", "-f", ...ids], { check: false });
      await run(["docker", "volume", "rm", "-f", `${p}_data`], { check: false });
      await run(["docker", "network", "rm", `${p}_default`], { check: false });
    }
    dir.remove();
  }, 120_000);

  test("--as the other project's name: refused naming its volume; its data and its container untouched", async () => {
    const r = await restore(blog);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(`volume ${blog}_data exists and is not a copy of ${shop} made by kopi-docka`);
    expect(await inVolume(`${blog}_data`)).toBe("blog-data\n");
    const running = await run(["docker", "inspect", "-f", "{{.State.Running}}", await appOf(blog)]);
    expect(running.stdout.trim()).toBe("true");
  }, 240_000);

  test("a copy under a new name, then again into that same copy: both restored, the copy labelled", async () => {
    const first = await restore(copy);
    expect({ exit: first.exitCode, stderr: first.exitCode ? first.stderr : "" }).toEqual({
      exit: 0,
      stderr: "",
    });
    expect(await inVolume(`${copy}_data`)).toBe("shop-data\n");
    const label = await run([
      "docker",
      "volume",
      "inspect",
      "-f",
      '{{index .Labels "kopi-docka.copy-of"}}',
      `${copy}_data`,
    ]);
    expect(label.stdout.trim()).toBe(shop);
    await run([
      "docker",
      "run",
      "--rm",
      "-v",
      `${copy}_data:/data`,
      TEST_IMAGE,
      "sh",
      "-c",
      "echo changed > /data/f",
    ]);
    const again = await restore(copy);
    expect({ exit: again.exitCode, stderr: again.exitCode ? again.stderr : "" }).toEqual({
      exit: 0,
      stderr: "",
    });
    expect(await inVolume(`${copy}_data`)).toBe("shop-data\n");
  }, 240_000);
});

// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose's own ${VAR} syntax
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { needs } from "../../src/commands/_context.ts";
import { describeCompose, runCompose } from "../helpers/compose.ts";
import { run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

/**
 * A restored compose file is the snapshot's: one that asks for `${<a storage credential>}` must get
 * nothing, though kopi-docka runs with it set (a `*_env` key names it; recover.sh exports it). A
 * variable no config key names is substituted as compose always does.
 */
describeCompose("compose runs without the secrets the config names", ["docker", "image"], (cmp) => {
  const dir = tempDir("kd-compose-secret-");
  const project = uniqueName("kdhide");
  const secret = `KD_IT_SECRET_${process.pid}`;
  const plain = `KD_IT_PLAIN_${process.pid}`;
  const configFile = writeTestConfig(
    join(dir.path, "kd"),
    `${cmp.toml}
[[replicas]]
name = "off"
backend = "s3"
bucket = "b"
access_key_id_file = "/nonexistent"
secret_access_key_env = "${secret}"
`,
  );
  const saved = { ...process.env };

  afterAll(async () => {
    await runCompose(cmp, ["-p", project, "-f", join(dir.path, "compose.yaml"), "down", "-v"], {
      check: false,
      cwd: dir.path,
    });
    for (const k of [secret, plain, ...Object.keys(cmp.env)]) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    dir.remove();
  });

  test("${SECRET} is empty in the container, ${PLAIN} is substituted", async () => {
    writeFileSync(
      join(dir.path, "compose.yaml"),
      `services:
  app:
    image: ${TEST_IMAGE}
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
    environment:
      - LEAK=\${${secret}}
      - SEEN=\${${plain}}
`,
    );
    Object.assign(process.env, cmp.env, { [secret]: "storage-credential", [plain]: "ordinary" });
    const ctx = needs({ config: configFile, quiet: true }, "config");
    await ctx.docker.composeUp({ project, files: [join(dir.path, "compose.yaml")], cwd: dir.path });
    const r = await run([
      "docker",
      "inspect",
      "--format",
      "{{json .Config.Env}}",
      cmp.container(project, "app"),
    ]);
    const env: string[] = JSON.parse(r.stdout);
    expect(env).toContain("LEAK=");
    expect(env).toContain("SEEN=ordinary");
    expect(env.join("\n")).not.toContain("storage-credential");
  });
});

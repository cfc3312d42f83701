import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { COMPOSES, describeCompose } from "../helpers/compose.ts";
import { tempDir, writeTestConfig } from "../helpers/env.ts";

/** `docker.compose` picks the compose; `version` and `doctor` name the one used, with its version. */
describeCompose("docker.compose: version and doctor name the compose used", ["docker"], (cmp) => {
  const dir = tempDir("kd-compose-choice-");
  const config = writeTestConfig(join(dir.path, "kd"), cmp.toml);
  // Both composes are reachable (v2 through DOCKER_CONFIG), so only the config can make the choice.
  const env = { KOPI_DOCKA_TEST_SOURCE: "1", ...(COMPOSES[1]?.env ?? {}) };

  afterAll(() => dir.remove());

  test("version --json", async () => {
    const r = await runCli(["version", "--json", "--config", config], { env });
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).compose).toEqual({ command: cmp.command.join(" "), version: cmp.version });
  });

  test("version, for people", async () => {
    const r = await runCli(["version", "--config", config], { env });
    expect(r.stdout).toContain(`compose    ${cmp.command.join(" ")} ${cmp.version}`);
  });

  test("doctor --json", async () => {
    const r = await runCli(["doctor", "--json", "--config", config], { env });
    const checks = JSON.parse(r.stdout).checks as { id: string; status: string; detail: string }[];
    expect(checks.find((c) => c.id === "compose")).toEqual({
      id: "compose",
      status: "ok",
      detail: `${cmp.command.join(" ")} ${cmp.version}`,
    });
  });
});

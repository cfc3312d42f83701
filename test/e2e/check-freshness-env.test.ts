import { afterAll, expect, test } from "bun:test";
import { runCli } from "../helpers/cli.ts";
import { tempDir, writeTestConfig } from "../helpers/env.ts";

// The README's own example, `${NTFY_TOPIC}` in a target URL, set in the admin's shell but not for the
// timer's services: every failed night would alert nobody. The hourly check says so by failing.
const dir = tempDir("kdt-fresh-env-");
afterAll(() => dir.remove());

test("check-freshness: a target its environment cannot resolve fails the check, naming the variable and the fix", async () => {
  const config = writeTestConfig(
    dir.path,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax
    '[alerts]\nnotify = [{ url = "ntfy://127.0.0.1:9/${KD_TEST_TOPIC}", level = "failure" }]\n',
  );
  const unset = await runCli(["check-freshness", "--config", config], { env: { KD_TEST_TOPIC: undefined } });
  expect(unset.exitCode).toBe(1);
  expect(unset.stderr).toContain("alerts cannot be sent");
  expect(unset.stderr).toContain("KD_TEST_TOPIC");
  expect(unset.stderr).toContain("EnvironmentFile=");
  const set = await runCli(["check-freshness", "--config", config], { env: { KD_TEST_TOPIC: "t1" } });
  expect({ exit: set.exitCode, stderr: set.exitCode ? set.stderr : "" }).toEqual({ exit: 0, stderr: "" });
});

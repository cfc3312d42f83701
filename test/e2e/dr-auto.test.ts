import { afterAll, beforeAll, expect, test } from "bun:test";
import { appendFileSync, readdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, cliArgv, runCli } from "../helpers/cli.ts";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";

/**
 * `[dr] export_after_backup`: a bundle after a successful backup only when the config or repository
 * changed, the newest `keep` kept, and `doctor` warning when the config is newer than the newest bundle.
 */
const compiled = cliArgv()[0] === BINARY;

describeReal("dr export_after_backup on the compiled binary", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-e2e-drauto-");
  const out = join(dir.path, "bundles");
  const pass = join(dir.path, "passphrase");
  const name = uniqueName("kdtdrauto");
  // A second unit whose pre_backup hook fails: a run of both is "partial".
  const failing = `${name}-b`;
  const hook = join(dir.path, "fail.sh");
  const config = writeTestConfig(
    join(dir.path, "kd"),
    `\n[dr]\nexport_after_backup = "${out}"\nkeep = 2\npassphrase_file = "${pass}"\n` +
      `\n[units.${failing}]\npre_backup = "${hook}"\n`,
  );
  const bundles = () =>
    readdirSync(out)
      .filter((f) => f.endsWith(".age"))
      .sort();
  const backup = async () => {
    const r = await runCli(["backup", "--config", config, "--unit", name]);
    expect(r.exitCode).toBe(0);
    return r;
  };
  const drCheck = async () => {
    const r = await runCli(["doctor", "--json", "--config", config]);
    const checks = JSON.parse(r.stdout).checks as { id: string; status: string; detail: string }[];
    return checks.find((c) => c.id === "dr-bundle");
  };

  beforeAll(async () => {
    writeFileSync(pass, "a-long-passphrase-for-tests\n", { mode: 0o600 });
    writeFileSync(hook, "#!/bin/sh\necho no >&2\nexit 3\n", { mode: 0o700 });
    if (compiled) {
      await startContainer(name, `${name}-v`);
      await startContainer(failing, `${failing}-v`);
    }
  }, 60_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", name, failing], { check: false });
    await run(["docker", "volume", "rm", "-f", `${name}-v`, `${failing}-v`], { check: false });
    dir.remove();
  }, 60_000);

  test.skipIf(!compiled)(
    "a bundle on the first run, none when nothing changed, a new one after a config change, keep = 2",
    async () => {
      const first = await backup();
      expect(first.stderr).toContain("DR bundle written");
      expect(bundles()).toHaveLength(1);
      expect((await drCheck())?.status).toBe("ok");
      await backup();
      expect(bundles()).toHaveLength(1);
      for (const round of [1, 2]) {
        await Bun.sleep(1100); // bundle names are stamped to the second
        appendFileSync(config, `# changed ${round}\n`);
        const future = new Date(Date.now() + 5000);
        utimesSync(config, future, future);
        const check = await drCheck();
        expect(check?.status).toBe("warn");
        expect(check?.detail).toContain("is older than");
        await backup();
      }
      const kept = bundles();
      expect(kept).toHaveLength(2);
      expect(readdirSync(out).filter((f) => f.endsWith(".txt"))).toHaveLength(2);
    },
    240_000,
  );

  test.skipIf(!compiled)(
    "a run where one unit fails still refreshes the bundle after a config change",
    async () => {
      await Bun.sleep(1100); // bundle names are stamped to the second
      appendFileSync(config, "# changed before a partial run\n");
      const newest = bundles().at(-1);
      const r = await runCli(["backup", "--config", config, "--unit", name, "--unit", failing]);
      expect(r.exitCode).not.toBe(0);
      expect(r.stderr).toContain("partly failed");
      expect(r.stderr).toContain("DR bundle written");
      expect(bundles().at(-1)).not.toBe(newest);
    },
    240_000,
  );
});

import { afterAll, beforeAll, expect, test } from "bun:test";
import { cliArgv, runCli } from "../helpers/cli.ts";
import { describeReal, run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { hasTmux, terminal } from "../helpers/terminal.ts";

describeReal("restore wizard in a real terminal", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kd-wizard-");
  const name = uniqueName("kdw");
  const config = writeTestConfig(dir.path, "[backup]\nstop_timeout = 1\n");
  // The compiled binary when it is current (as CI builds it), else the source.
  const cli = `env -u CI NO_COLOR=1 ${cliArgv().join(" ")} restore --config ${config}`;

  /** With --unit and --as given: the default answer (Enter) to each question the wizard still asks. */
  const defaultsToSummary = async (t: ReturnType<typeof terminal>) => {
    for (const question of [
      "Restore from which host?",
      "Which restore point of", // the newest
      "What should come back?",
      "Start the unit afterwards?",
    ]) {
      await t.waitFor(question);
      await t.keys("Enter");
    }
  };

  beforeAll(async () => {
    await run(["docker", "run", "-d", "--name", name, "-v", `${name}:/data`, TEST_IMAGE, "sleep", "3600"]);
    await run(["docker", "exec", name, "sh", "-c", "echo hi > /data/a"]);
    const r = await runCli(["backup", "--config", config, "--unit", name]);
    expect(r.exitCode).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
    const copies = ["restored", "partial", "yes", "gone"].map((as) => `${name}-${as}_${name}`);
    await run(["docker", "volume", "rm", "-f", name, ...copies], { check: false });
    dir.remove();
  }, 60_000);

  test.skipIf(!hasTmux && !process.env.CI)(
    "every step, then declining at the summary: nothing changes, exit 130",
    async () => {
      const t = terminal(uniqueName("kdwiz"));
      try {
        await t.start(`${cli}`);
        await t.waitFor("Restore from which host?");
        await t.keys("Enter");
        await t.waitFor("Which unit?");
        await t.keys("Enter");
        await t.waitFor("Which restore point of");
        await t.keys("Enter");
        await t.waitFor("What should come back?");
        await t.keys("Enter");
        await t.waitFor("Where to?");
        await t.keys("Down", "Enter");
        await t.waitFor("Name of the copy");
        await t.keys("Enter");
        await t.waitFor("Start the unit afterwards?");
        await t.keys("Enter");
        const summary = await t.waitFor("Go ahead?");
        expect(summary).toContain(`create     volume ${name}-restored_${name}`);
        await t.keys("Enter");
        const end = await t.waitFor("EXIT=");
        expect(end).toContain("EXIT=130");
        expect(end).toContain("nothing was changed");
        const copy = await run(
          ["docker", "volume", "inspect", `${name}-restored_${name}`, `${name}-partial_${name}`],
          {
            check: false,
          },
        );
        expect(copy.exitCode).not.toBe(0);
      } finally {
        await t.kill();
      }
    },
    120_000,
  );

  test.skipIf(!hasTmux && !process.env.CI)(
    "flags given partly (--unit, --as): only the rest is asked",
    async () => {
      const t = terminal(uniqueName("kdwiz"));
      try {
        await t.start(`${cli} --unit ${name} --as ${name}-partial`);
        await defaultsToSummary(t);
        const summary = await t.waitFor("Go ahead?");
        expect(summary).not.toContain("Which unit?");
        expect(summary).not.toContain("Where to?");
        expect(summary).toContain(`create     volume ${name}-partial_${name}`);
        await t.keys("Enter");
        expect(await t.waitFor("EXIT=")).toContain("EXIT=130");
      } finally {
        await t.kill();
      }
    },
    120_000,
  );

  test.skipIf(!hasTmux && !process.env.CI)(
    "answering yes at the summary restores: the copy holds the backed-up bytes, exit 0",
    async () => {
      const t = terminal(uniqueName("kdwiz"));
      try {
        await t.start(`${cli} --unit ${name} --as ${name}-yes`);
        await defaultsToSummary(t);
        await t.waitFor("Go ahead?");
        await t.keys("y");
        expect(await t.waitFor("EXIT=", 120_000)).toContain("EXIT=0");
      } finally {
        await t.kill();
      }
      const copy = await run([
        "docker",
        "run",
        "--rm",
        "-v",
        `${name}-yes_${name}:/data`,
        TEST_IMAGE,
        "cat",
        "/data/a",
      ]);
      expect(copy.stdout).toBe("hi\n");
    },
    180_000,
  );

  test.skipIf(!hasTmux && !process.env.CI)(
    "Ctrl+C at a prompt cancels with exit 130",
    async () => {
      const t = terminal(uniqueName("kdwiz"));
      try {
        await t.start(`${cli}`);
        await t.waitFor("Restore from which host?");
        await t.keys("Enter");
        await t.waitFor("Which unit?");
        await t.keys("C-c");
        expect(await t.waitFor("EXIT=")).toContain("EXIT=130");
      } finally {
        await t.kill();
      }
    },
    120_000,
  );

  test.skipIf(!hasTmux && !process.env.CI)(
    "the chosen point deleted while the summary waits: yes restores nothing, naming why",
    async () => {
      expect((await runCli(["backup", "--config", config, "--unit", name])).exitCode).toBe(0);
      const t = terminal(uniqueName("kdwiz"));
      try {
        await t.start(`${cli} --unit ${name} --as ${name}-gone`);
        await defaultsToSummary(t);
        await t.waitFor("Go ahead?");
        const listed = JSON.parse((await runCli(["snapshots", "--json", "--config", config])).stdout);
        const newest = listed.points[0].key as string;
        const del = await runCli(["snapshots", "delete", "--run", newest, "--yes", "--config", config]);
        expect(del.exitCode).toBe(0);
        await t.keys("y");
        const end = await t.waitFor("EXIT=", 120_000);
        expect(end).toContain("EXIT=1");
        expect(end).toContain(`restore point ${newest} changed since it was chosen`);
      } finally {
        await t.kill();
      }
      const made = await run(["docker", "volume", "ls", "-q", "--filter", `name=${name}-gone_`]);
      expect(made.stdout.trim()).toBe("");
    },
    180_000,
  );
});

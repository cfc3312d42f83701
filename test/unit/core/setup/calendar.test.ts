import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../../../src/config/load.ts";
import { ConfigError, UsageError } from "../../../../src/core/errors.ts";
import { createLogger } from "../../../../src/core/log.ts";
import { checkUnattended } from "../../../../src/core/setup/unattended.ts";
import { exitCodeFor } from "../../../../src/exit-codes.ts";
import { checkOnCalendar } from "../../../../src/systemd/schedule.ts";
import { checkConfigCalendar } from "../../../../src/systemd/settings.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { FakeRunner } from "../../../fakes/fake-runner.ts";
import { setupAnswers } from "./fixtures.ts";

const dirs: string[] = [];
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), "kd-setup-calendar-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const REFUSED = "Failed to parse calendar specification 'bogus': Invalid argument";
/** A strict runner whose only known command is systemd's calendar parser, refusing `bogus`. */
const analyzer = () =>
  new FakeRunner(
    [],
    [
      { argv: ["systemd-analyze", "calendar", "bogus"], exitCode: 1, stderr: REFUSED },
      { argv: (a) => a[0] === "systemd-analyze" && a[2] !== "bogus", stdout: "Normalized form: …\n" },
    ],
  );

describe("a calendar systemd refuses is found before anything is written", () => {
  test("setup --yes --on-calendar bogus: exit 2 before the dependency check, the probe and the dry run", async () => {
    const d = scratch();
    const a = { ...setupAnswers(d, "generate"), onCalendar: "bogus" };
    const runner = analyzer();
    const warn: string[] = [];
    const e = await checkUnattended(
      {
        runner,
        docker: new FakeDocker(),
        log: createLogger("quiet"),
        selfArgv: ["kd"],
        checkCalendar: (expr) => checkOnCalendar(runner, expr, (m) => warn.push(m)),
      },
      a,
      "",
    ).catch((x) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect(exitCodeFor(e)).toBe(2);
    expect(e.message).toBe(`--on-calendar "bogus" is not a valid systemd calendar expression: ${REFUSED}`);
    expect(runner.calls.map((c) => c.argv.join(" "))).toEqual(["systemd-analyze calendar bogus"]);
  });

  test('config validate: [schedule] on_calendar = "bogus" is a config error naming its line', async () => {
    const file = join(scratch(), "config.toml");
    writeFileSync(file, '[schedule]\non_calendar = "bogus"\n');
    const runner = analyzer();
    const e = await checkConfigCalendar(runner, loadConfig(file).config, file, () => {}).catch((x) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect(exitCodeFor(e)).toBe(2);
    expect(e.message).toContain("[schedule] on_calendar");
    expect(e.message).toContain(file);
  });

  test("config validate: a good on_calendar passes, and none at all runs nothing", async () => {
    const file = join(scratch(), "config.toml");
    writeFileSync(file, '[schedule]\non_calendar = "*-*-* 02:00:00"\n');
    const runner = analyzer();
    await checkConfigCalendar(runner, loadConfig(file).config, file, () => {});
    expect(runner.calls).toHaveLength(1);
    writeFileSync(file, "");
    const none = analyzer();
    await checkConfigCalendar(none, loadConfig(file).config, file, () => {});
    expect(none.calls).toHaveLength(0);
  });
});

import { afterAll, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setupTimerArgv } from "../../src/systemd/setup-timer.ts";
import { TIMER_UNIT } from "../../src/systemd/units.ts";
import { cliArgv, runCli } from "../helpers/cli.ts";
import { tempDir } from "../helpers/env.ts";

// The `systemd install` setup runs (real CLI from source, a unit dir of its own): the schedule setup was
// given replaces the one kopi-docka's own earlier units carry; a unit someone else wrote stays as it is.
const env = { KOPI_DOCKA_TEST_SOURCE: "1" };
const dir = tempDir("kdt-setup-timer-");
afterAll(() => dir.remove());
const config = join(dir.path, "config.toml");
const units = join(dir.path, "units");
const schedule = (at: string) => writeFileSync(config, `[schedule]\non_calendar = "*-*-* ${at}:00"\n`);
const timer = () => readFileSync(join(units, TIMER_UNIT), "utf8");
// From source there is no binary of its own to name in ExecStart: any root-owned one does here.
const BINARY = ["--binary", "/usr/bin/true"];
const runArgv = (argv: string[]) => runCli([...argv.slice(cliArgv(env).length), ...BINARY], { env });

test("kopi-docka's own timer at 02:00 (install.sh's), setup asks for 04:00: replaced, the old one kept as .bak", async () => {
  mkdirSync(units);
  schedule("02:00");
  const first = await runCli(["systemd", "install", "--config", config, "--unit-dir", units, ...BINARY], {
    env,
  });
  expect({ exit: first.exitCode, err: first.exitCode ? first.stderr : "" }).toEqual({ exit: 0, err: "" });
  expect(timer()).toContain("OnCalendar=*-*-* 02:00:00\n");

  schedule("04:00");
  const argv = setupTimerArgv(cliArgv(env), config, units);
  expect(argv.at(-1)).toBe("--force");
  const r = await runArgv(argv);
  expect({ exit: r.exitCode, err: r.exitCode ? r.stderr : "" }).toEqual({ exit: 0, err: "" });
  expect(timer()).toContain("OnCalendar=*-*-* 04:00:00\n");
  expect(readdirSync(units).filter((f) => f.startsWith(`${TIMER_UNIT}.bak`))).toHaveLength(1);
}, 60_000);

test("a timer of that name someone else wrote: no --force, exit 2 naming it, the file unchanged", async () => {
  const theirs = "[Timer]\nOnCalendar=hourly\n";
  writeFileSync(join(units, TIMER_UNIT), theirs);
  schedule("05:00");
  const argv = setupTimerArgv(cliArgv(env), config, units);
  expect(argv).not.toContain("--force");
  const r = await runArgv(argv);
  expect(r.exitCode).toBe(2);
  expect(r.stderr).toContain("refusing to overwrite");
  expect(timer()).toBe(theirs);
}, 60_000);

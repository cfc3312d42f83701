import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createBunRunner } from "../../src/core/process/runner.ts";
import { FRESHNESS_SERVICE, FRESHNESS_TIMER } from "../../src/systemd/freshness-units.ts";
import { SERVICE_UNIT, TIMER_UNIT } from "../../src/systemd/units.ts";
import { BINARY, cliArgv, runCli } from "../helpers/cli.ts";
import { tempDir, writeTestConfig } from "../helpers/env.ts";

const dir = tempDir("kd-e2e-systemd-");
afterAll(() => dir.remove());

/** These tests check that the unit runs the compiled binary itself, so they need it (built first in CI). */
const compiled = cliArgv()[0] === BINARY;
const analyze = Bun.spawnSync(["systemd-analyze", "--version"], { stdout: "ignore", stderr: "ignore" });
const hasAnalyze = analyze.exitCode === 0;
/** On a host where systemd is PID 1 the timer is not enabled from a temp unit dir. */
const systemdHere = existsSync("/run/systemd/system");
const enableFlag = systemdHere ? ["--no-enable"] : [];

const unitDir = join(dir.path, "units");
mkdirSync(unitDir);
const config = writeTestConfig(join(dir.path, "cfg"));
const install = (...extra: string[]) =>
  runCli(["systemd", "install", "--unit-dir", unitDir, "--config", config, ...enableFlag, ...extra]);
const read = (name: string) => readFileSync(join(unitDir, name), "utf8");

if (!compiled && process.env.CI) {
  test("the compiled binary exists (bun run build.ts)", () => {
    throw new Error(`missing ${BINARY}`);
  });
}

describe.skipIf(!compiled)("kopi-docka systemd on the compiled binary", () => {
  test("install writes units that run this binary with the config, and says what to run", async () => {
    const r = await install();
    expect(r.exitCode).toBe(0);
    expect(read(SERVICE_UNIT)).toContain(`\nExecStart=${BINARY} backup --config ${config}\n`);
    expect(read(SERVICE_UNIT)).toContain(`\nExecStopPost=${BINARY} recover --config ${config}\n`);
    expect(read(TIMER_UNIT)).toContain("\nOnCalendar=*-*-* 02:00:00\n");
    expect(read(FRESHNESS_SERVICE)).toContain(`\nExecStart=${BINARY} check-freshness --config ${config}\n`);
    expect(read(FRESHNESS_TIMER)).toContain("\nOnCalendar=hourly\n");
    expect(r.stdout).toContain(`created      ${join(unitDir, SERVICE_UNIT)}`);
    expect(r.stdout).toContain(`created      ${join(unitDir, FRESHNESS_TIMER)}`);
    if (!systemdHere) {
      expect(r.stdout).toContain("systemd is not running here");
      expect(r.stdout).toContain(
        "  systemctl daemon-reload\n  systemctl enable --now kopi-docka-backup.timer kopi-docka-freshness.timer",
      );
    }
  });

  test.skipIf(!hasAnalyze && !process.env.CI)(
    "systemd-analyze verify accepts the installed units",
    async () => {
      const r = await createBunRunner().run(
        [
          "systemd-analyze",
          "verify",
          ...[SERVICE_UNIT, TIMER_UNIT, FRESHNESS_SERVICE, FRESHNESS_TIMER].map((n) => join(unitDir, n)),
        ],
        { check: false },
      );
      expect(r.stderr).toBe(""); // verify exits 0 on unknown keys too; it only warns
      expect(r.exitCode).toBe(0);
    },
  );

  test("status --json: every file current, binary and config usable", async () => {
    const r = await runCli(["systemd", "status", "--json", "--unit-dir", unitDir]);
    expect(r.exitCode).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.files.map((f: { status: string }) => f.status)).toEqual([
      "current",
      "current",
      "current",
      "current",
    ]);
    expect(s).toMatchObject({ binary: BINARY, binaryProblem: null, configPath: config, configExists: true });
    expect(s.onCalendar).toBe("*-*-* 02:00:00");
  });

  test("re-install is unchanged; an edited file is refused with a diff until --force", async () => {
    const again = await install("--json");
    expect(again.exitCode).toBe(0);
    expect(JSON.parse(again.stdout).files.map((f: { action: string }) => f.action)).toEqual([
      "unchanged",
      "unchanged",
      "unchanged",
      "unchanged",
    ]);

    appendFileSync(join(unitDir, SERVICE_UNIT), "# my edit\n");
    const edited = read(SERVICE_UNIT);
    const refused = await install();
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain(`${join(unitDir, SERVICE_UNIT)} differs from what would be written`);
    expect(refused.stderr).toContain("- # my edit");
    expect(refused.stderr).toContain("--force");
    expect(read(SERVICE_UNIT)).toBe(edited);

    const forced = await install("--force");
    expect(forced.exitCode).toBe(0);
    expect(read(SERVICE_UNIT)).not.toContain("# my edit");
    const backups = readdirSync(unitDir).filter((f) => f.startsWith(`${SERVICE_UNIT}.bak-`));
    expect(backups).toHaveLength(1);
    expect(readFileSync(join(unitDir, backups[0] as string), "utf8")).toBe(edited);
  });

  test("an invalid --on-calendar is a usage error naming the flag; files stay as they were", async () => {
    const before = read(TIMER_UNIT);
    const r = await install("--on-calendar", "every night");
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--on-calendar "every night" is not a valid systemd calendar expression');
    expect(read(TIMER_UNIT)).toBe(before);
  });

  test("--dry-run --json prints the units and writes nothing", async () => {
    const empty = join(dir.path, "empty");
    mkdirSync(empty);
    const r = await runCli([
      "systemd",
      "install",
      "--dry-run",
      "--json",
      "--unit-dir",
      empty,
      "--on-calendar",
      "daily",
    ]);
    expect(r.exitCode).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.applied).toBe(false);
    expect(plan.files[1].content).toContain("OnCalendar=daily\n");
    expect(readdirSync(empty)).toEqual([]);
  });

  test("[schedule] in the config sets the timer unless a flag overrides it; a bad value names file:line", async () => {
    const empty = join(dir.path, "schedule-units");
    mkdirSync(empty);
    const scheduled = writeTestConfig(
      join(dir.path, "cfg-schedule"),
      '\n[schedule]\non_calendar = "Sat 03:00"\nrandomized_delay_sec = 900\n',
    );
    const plan = (...extra: string[]) =>
      runCli([
        "systemd",
        "install",
        "--dry-run",
        "--json",
        "--unit-dir",
        empty,
        "--config",
        scheduled,
        ...extra,
      ]);
    const fromConfig = JSON.parse((await plan()).stdout);
    expect(fromConfig).toMatchObject({ onCalendar: "Sat 03:00", scheduleFrom: "config" });
    expect(fromConfig).toMatchObject({ randomizedDelaySec: 900, randomizedDelayFrom: "config" });
    expect(fromConfig.files[1].content).toContain("OnCalendar=Sat 03:00\nRandomizedDelaySec=900\n");
    const flagged = JSON.parse((await plan("--on-calendar", "daily", "--randomized-delay-sec", "60")).stdout);
    expect(flagged).toMatchObject({ onCalendar: "daily", scheduleFrom: "flag", randomizedDelaySec: 60 });

    if (!hasAnalyze) return; // the calendar check below needs systemd-analyze
    const bad = writeTestConfig(join(dir.path, "cfg-bad"), '\n[schedule]\non_calendar = "nightly"\n');
    const r = await runCli(["systemd", "install", "--dry-run", "--unit-dir", empty, "--config", bad]);
    expect(r.exitCode).toBe(2);
    const line = readFileSync(bad, "utf8").split("\n").indexOf('on_calendar = "nightly"') + 1;
    expect(r.stderr).toContain(`${bad}:${line}: schedule.on_calendar:`);
    expect(readdirSync(empty)).toEqual([]);
  });

  test("as non-root, install says why it needs root", async () => {
    const r = await createBunRunner().run(
      [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        BINARY,
        "systemd",
        "install",
        "--unit-dir",
        unitDir,
      ],
      { check: false, env: { NO_COLOR: "1", CI: "true" } },
    );
    expect(r.exitCode).toBe(13);
    expect(r.stderr).toContain(
      "it writes unit files and enables the timer: run `sudo kopi-docka systemd install`",
    );
  });

  test("uninstall removes only the files kopi-docka wrote", async () => {
    writeFileSync(join(unitDir, "other.service"), "[Service]\nExecStart=/bin/true\n");
    const r = await runCli(["systemd", "uninstall", "--json", "--unit-dir", unitDir]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).removed).toEqual(
      [TIMER_UNIT, SERVICE_UNIT, FRESHNESS_TIMER, FRESHNESS_SERVICE].map((n) => join(unitDir, n)),
    );
    const left = readdirSync(unitDir).sort();
    expect(left).toHaveLength(2);
    expect(left[0]).toMatch(/^kopi-docka-backup\.service\.bak-/); // the user's old file is theirs to delete
    expect(left[1]).toBe("other.service");

    writeFileSync(join(unitDir, TIMER_UNIT), "[Timer]\nOnCalendar=daily\n");
    const again = await runCli(["systemd", "uninstall", "--unit-dir", unitDir]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain("(not written by kopi-docka)");
    expect(existsSync(join(unitDir, TIMER_UNIT))).toBe(true);
  });
});

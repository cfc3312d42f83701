import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AppError, UsageError } from "../../../src/core/errors.ts";
import type { Runner } from "../../../src/core/process/runner.ts";
import { FRESHNESS_SERVICE, FRESHNESS_TIMER } from "../../../src/systemd/freshness-units.ts";
import { type InstallOptions, installUnits } from "../../../src/systemd/install.ts";
import { SERVICE_UNIT, TIMER_UNIT, UNIT_MARKER } from "../../../src/systemd/units.ts";
import { FakeRunner } from "../../fakes/fake-runner.ts";
import { tempDir } from "../../helpers/env.ts";

const calendarOk = (expr: string) => ({
  argv: ["systemd-analyze", "calendar", expr],
  stdout: "Normalized form: …\n",
});
const reload = { argv: ["systemctl", "daemon-reload"] };
const enable = { argv: ["systemctl", "enable", "--now", TIMER_UNIT, FRESHNESS_TIMER] };

let dir: { path: string; remove: () => void };
let warnings: string[];
beforeEach(() => {
  dir = tempDir("kd-systemd-");
  warnings = [];
});
afterEach(() => dir.remove());

const options = (over: Partial<InstallOptions> = {}): InstallOptions => ({
  unitDir: dir.path,
  binary: "/usr/local/bin/kopi-docka",
  configPath: "/etc/kopi-docka/config.toml",
  force: false,
  enable: true,
  dryRun: false,
  ...over,
});
const deps = (runner: Runner, systemdRunning: boolean) => ({
  runner,
  warn: (m: string) => warnings.push(m),
  systemdRunning,
  now: new Date("2026-11-25T12:00:00Z"),
});
const read = (name: string) => readFileSync(join(dir.path, name), "utf8");

describe("systemd install", () => {
  test("writes the backup's and the freshness check's units (marker first, 0644), reloads, enables both timers", async () => {
    const runner = new FakeRunner([calendarOk("*-*-* 02:00:00"), reload, enable]);
    const r = await installUnits(options(), deps(runner, true));
    expect(runner.remaining).toBe(0);
    expect(r.files.map((f) => f.action)).toEqual(["create", "create", "create", "create"]);
    expect(r.ran).toEqual([reload.argv, enable.argv]);
    expect(r.toRun).toEqual([]);
    expect(r.scheduleFrom).toBe("default");
    for (const name of [SERVICE_UNIT, TIMER_UNIT, FRESHNESS_SERVICE, FRESHNESS_TIMER]) {
      expect(read(name).split("\n")[0]).toBe(UNIT_MARKER);
      expect(statSync(join(dir.path, name)).mode & 0o777).toBe(0o644);
    }
    expect(read(SERVICE_UNIT)).toContain(
      "ExecStart=/usr/local/bin/kopi-docka backup --config /etc/kopi-docka/config.toml\n",
    );
    expect(read(TIMER_UNIT)).toContain("OnCalendar=*-*-* 02:00:00\n");
    // The run that never happens (timer stopped, service hung) is reported by the hourly check.
    expect(read(FRESHNESS_SERVICE)).toContain(
      "ExecStart=/usr/local/bin/kopi-docka check-freshness --config /etc/kopi-docka/config.toml\n",
    );
    expect(read(FRESHNESS_SERVICE)).toContain("TimeoutStartSec=600\n");
    expect(read(FRESHNESS_TIMER)).toContain("OnCalendar=hourly\n");
  });

  test("without systemd as PID 1 it calls no systemctl and returns the commands to run", async () => {
    const runner = new FakeRunner([calendarOk("daily")]);
    const r = await installUnits(options({ onCalendar: "daily" }), deps(runner, false));
    expect(runner.calls.map((c) => c.argv[0])).toEqual(["systemd-analyze"]);
    expect(r.ran).toEqual([]);
    expect(r.toRun).toEqual([reload.argv, enable.argv]);
    expect(read(TIMER_UNIT)).toContain("OnCalendar=daily\n");
  });

  test("a second install is 'unchanged', keeps the installed schedule and only re-enables", async () => {
    await installUnits(
      options({ onCalendar: "Sun 04:00" }),
      deps(new FakeRunner([], [calendarOk("Sun 04:00")]), false),
    );
    const runner = new FakeRunner([calendarOk("Sun 04:00"), enable]);
    const r = await installUnits(options(), deps(runner, true));
    expect(runner.remaining).toBe(0);
    expect(r.files.map((f) => f.action)).toEqual(["unchanged", "unchanged", "unchanged", "unchanged"]);
    expect(r.onCalendar).toBe("Sun 04:00");
    expect(r.scheduleFrom).toBe("installed timer");
  });

  test("--no-enable only reloads", async () => {
    const runner = new FakeRunner([calendarOk("*-*-* 02:00:00"), reload]);
    const r = await installUnits(options({ enable: false }), deps(runner, true));
    expect(runner.remaining).toBe(0);
    expect(r.ran).toEqual([reload.argv]);
  });

  test("a differing file is refused with a diff and nothing at all is written", async () => {
    const edited = `${UNIT_MARKER}\n[Service]\nExecStart=/bin/true\n`;
    writeFileSync(join(dir.path, SERVICE_UNIT), edited);
    const runner = new FakeRunner([calendarOk("*-*-* 02:00:00")]);
    const error = await installUnits(options(), deps(runner, true)).catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toContain(`${join(dir.path, SERVICE_UNIT)} differs from what would be written`);
    expect(error.message).toContain("- ExecStart=/bin/true");
    expect(error.message).toContain("+ ExecStart=/usr/local/bin/kopi-docka backup --config");
    expect(error.hint).toContain("--force");
    expect(read(SERVICE_UNIT)).toBe(edited);
    expect(existsSync(join(dir.path, TIMER_UNIT))).toBe(false); // not half an install
  });

  test("a same-named file kopi-docka did not write is named as such; --force keeps it as .bak", async () => {
    const foreign = "[Service]\nExecStart=/usr/bin/env kopi-docka backup\n";
    writeFileSync(join(dir.path, SERVICE_UNIT), foreign);
    const refused = await installUnits(
      options(),
      deps(new FakeRunner([calendarOk("*-*-* 02:00:00")]), false),
    ).catch((e) => e);
    expect(refused.message).toContain("exists and was not written by kopi-docka");
    const runner = new FakeRunner([calendarOk("*-*-* 02:00:00")]);
    const r = await installUnits(options({ force: true }), deps(runner, false));
    expect(r.files.map((f) => f.action)).toEqual(["replace", "create", "create", "create"]);
    const backup = join(dir.path, `${SERVICE_UNIT}.bak-2026-11-25T12-00-00-000Z`);
    expect(r.files[0]?.backup).toBe(backup);
    expect(readFileSync(backup, "utf8")).toBe(foreign);
    expect(read(SERVICE_UNIT)).toContain(UNIT_MARKER);
  });

  test("--dry-run writes nothing and calls no systemctl, even over a differing file", async () => {
    writeFileSync(join(dir.path, TIMER_UNIT), "old\n");
    const runner = new FakeRunner([calendarOk("*-*-* 02:00:00")]);
    const r = await installUnits(options({ dryRun: true }), deps(runner, true));
    expect(r.applied).toBe(false);
    expect(r.files.map((f) => f.action)).toEqual(["create", "conflict", "create", "create"]);
    expect(r.files[0]?.content).toContain("ExecStopPost=/usr/local/bin/kopi-docka recover");
    expect(readdirSync(dir.path)).toEqual([TIMER_UNIT]);
    expect(read(TIMER_UNIT)).toBe("old\n");
    expect(runner.calls).toHaveLength(1);
  });

  test("an invalid OnCalendar is a usage error naming --on-calendar; nothing is written", async () => {
    const runner = new FakeRunner([
      {
        argv: ["systemd-analyze", "calendar", "nightly"],
        exitCode: 1,
        stderr: "Failed to parse calendar specification 'nightly': Invalid argument\n",
      },
    ]);
    const error = await installUnits(options({ onCalendar: "nightly" }), deps(runner, true)).catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toContain('--on-calendar "nightly" is not a valid systemd calendar expression');
    expect(error.message).toContain("Failed to parse calendar specification");
    expect(readdirSync(dir.path)).toEqual([]);
    const injected = await installUnits(
      options({ onCalendar: "daily\nExecStart=/bin/sh" }),
      deps(new FakeRunner(), true),
    ).catch((e) => e);
    expect(injected).toBeInstanceOf(UsageError);
  });

  test("without systemd-analyze the expression is used unchecked, with a warning", async () => {
    const missing: Runner = {
      run: async (argv) => {
        throw new AppError("dependency_missing", `\`${argv[0]}\` was not found on PATH`);
      },
    };
    const r = await installUnits(options({ onCalendar: "hourly" }), deps(missing, false));
    expect(r.files.map((f) => f.action)).toEqual(["create", "create", "create", "create"]);
    expect(warnings.join("\n")).toContain('--on-calendar "hourly" was not checked');
  });

  test("warns about the Python Kopi-Docka's timer, which would start the service a second time", async () => {
    writeFileSync(join(dir.path, "kopi-docka.timer"), "[Timer]\nOnCalendar=*-*-* 02:00:00\n");
    await installUnits(options(), deps(new FakeRunner([calendarOk("*-*-* 02:00:00")]), false));
    expect(warnings.join("\n")).toContain("systemctl disable --now kopi-docka.timer");
    expect(existsSync(join(dir.path, "kopi-docka.timer"))).toBe(true); // never touched
  });
});

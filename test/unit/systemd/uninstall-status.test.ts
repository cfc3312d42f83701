import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Runner } from "../../../src/core/process/runner.ts";
import { FRESHNESS_SERVICE, FRESHNESS_TIMER } from "../../../src/systemd/freshness-units.ts";
import { installUnits } from "../../../src/systemd/install.ts";
import { systemdStatus } from "../../../src/systemd/status.ts";
import { uninstallUnits } from "../../../src/systemd/uninstall.ts";
import { SERVICE_UNIT, TIMER_UNIT } from "../../../src/systemd/units.ts";
import { FakeRunner } from "../../fakes/fake-runner.ts";
import { tempDir } from "../../helpers/env.ts";

let dir: { path: string; remove: () => void };
let binary: string;
beforeEach(() => {
  dir = tempDir("kd-systemd-");
  binary = join(dir.path, "kopi-docka");
  writeFileSync(binary, "#!/bin/sh\n");
  chmodSync(binary, 0o755);
});
afterEach(() => dir.remove());

const deps = (runner: Runner, systemdRunning: boolean) => ({ runner, warn: () => {}, systemdRunning });
const unitDir = () => join(dir.path, "units");

async function install(onCalendar = "*-*-* 02:00:00", configPath?: string): Promise<void> {
  mkdirSync(unitDir(), { recursive: true });
  const runner = new FakeRunner([], [{ argv: (a) => a[0] === "systemd-analyze" }]);
  await installUnits(
    { unitDir: unitDir(), binary, configPath, onCalendar, force: false, enable: true, dryRun: false },
    deps(runner, false),
  );
}

describe("systemd uninstall", () => {
  test("disables both timers, removes only our files, then reloads", async () => {
    await install();
    writeFileSync(join(unitDir(), "other.service"), "[Service]\nExecStart=/bin/true\n");
    const runner = new FakeRunner([
      { argv: ["systemctl", "disable", "--now", TIMER_UNIT, FRESHNESS_TIMER] },
      { argv: ["systemctl", "daemon-reload"] },
    ]);
    const r = await uninstallUnits(unitDir(), deps(runner, true));
    expect(runner.remaining).toBe(0);
    expect(r.removed).toEqual(
      [TIMER_UNIT, SERVICE_UNIT, FRESHNESS_TIMER, FRESHNESS_SERVICE].map((n) => join(unitDir(), n)),
    );
    expect(readdirSync(unitDir())).toEqual(["other.service"]);
  });

  test("a same-named unit without our marker is kept; without systemd the wants link goes too", async () => {
    await install();
    const wants = join(unitDir(), "timers.target.wants");
    mkdirSync(wants);
    symlinkSync(join(unitDir(), TIMER_UNIT), join(wants, TIMER_UNIT));
    symlinkSync(join(unitDir(), FRESHNESS_TIMER), join(wants, FRESHNESS_TIMER));
    symlinkSync("/lib/systemd/system/other.timer", join(wants, "other.timer"));
    writeFileSync(join(unitDir(), SERVICE_UNIT), "[Service]\nExecStart=/usr/bin/env kopi-docka backup\n");
    const runner = new FakeRunner();
    const r = await uninstallUnits(unitDir(), deps(runner, false));
    expect(runner.calls).toHaveLength(0);
    expect(r.kept).toEqual([join(unitDir(), SERVICE_UNIT)]);
    expect(existsSync(join(unitDir(), SERVICE_UNIT))).toBe(true);
    expect(existsSync(join(unitDir(), TIMER_UNIT))).toBe(false);
    expect(readdirSync(wants)).toEqual(["other.timer"]);
    expect(r.removed).toContain(join(wants, FRESHNESS_TIMER));
    expect(r.toRun).toEqual([
      ["systemctl", "stop", TIMER_UNIT, FRESHNESS_TIMER],
      ["systemctl", "daemon-reload"],
    ]);
  });

  test("nothing installed: nothing removed, no systemctl call", async () => {
    mkdirSync(unitDir());
    const runner = new FakeRunner();
    const r = await uninstallUnits(unitDir(), deps(runner, true));
    expect(r).toMatchObject({ removed: [], kept: [], ran: [], toRun: [] });
    expect(runner.calls).toHaveLength(0);
  });
});

describe("systemd status", () => {
  test("reports current files and what they run; no systemctl without systemd", async () => {
    await install("Sat 03:00", join(dir.path, "config.toml"));
    const s = await systemdStatus(unitDir(), deps(new FakeRunner(), false));
    expect(s.files.map((f) => f.status)).toEqual(["current", "current", "current", "current"]);
    expect(s).toMatchObject({
      binary,
      binaryProblem: null,
      configPath: join(dir.path, "config.toml"),
      configExists: false,
      onCalendar: "Sat 03:00",
      randomizedDelaySec: 0,
      timer: null,
      service: null,
      freshness: null,
    });
  });

  test("a timer installed with a randomized delay is current and shows the delay", async () => {
    mkdirSync(unitDir(), { recursive: true });
    const runner = new FakeRunner([], [{ argv: (a) => a[0] === "systemd-analyze" }]);
    await installUnits(
      { unitDir: unitDir(), binary, randomizedDelaySec: 900, force: false, enable: false, dryRun: false },
      deps(runner, false),
    );
    const s = await systemdStatus(unitDir(), deps(new FakeRunner(), false));
    expect(s.files.map((f) => f.status)).toEqual(["current", "current", "current", "current"]);
    expect(s.randomizedDelaySec).toBe(900);
  });

  test("an edited file is outdated, a hand-written one foreign, a moved binary a problem", async () => {
    await install();
    writeFileSync(
      join(unitDir(), TIMER_UNIT),
      `${await Bun.file(join(unitDir(), TIMER_UNIT)).text()}# edit\n`,
    );
    chmodSync(binary, 0o644);
    let s = await systemdStatus(unitDir(), deps(new FakeRunner(), false));
    expect(s.files.map((f) => f.status)).toEqual(["current", "outdated", "current", "current"]);
    expect(s.binaryProblem).toBe("not executable");
    writeFileSync(join(unitDir(), SERVICE_UNIT), "[Service]\n");
    s = await systemdStatus(unitDir(), deps(new FakeRunner(), false));
    // Without the backup service's ExecStart the freshness service's binary is unknown: not current.
    expect(s.files.map((f) => f.status)).toEqual(["foreign", "outdated", "outdated", "current"]);
    expect(s.binary).toBeNull();
  });

  test("with systemd running it adds the parsed `systemctl show` of timer and service", async () => {
    await install();
    const show = (unit: string) => (a: readonly string[]) => a[1] === "show" && a[a.length - 1] === unit;
    const runner = new FakeRunner([
      {
        argv: show(TIMER_UNIT),
        stdout:
          "ActiveState=active\nUnitFileState=enabled\nLastTriggerUSec=n/a\nNextElapseUSecRealtime=Thu 2026-11-26 02:00:00 UTC\n",
      },
      { argv: show(SERVICE_UNIT), stdout: "ActiveState=inactive\nResult=success\nExecMainStatus=0\n" },
      {
        argv: show(FRESHNESS_SERVICE),
        stdout:
          "ActiveState=failed\nResult=exit-code\nExecMainStatus=1\nExecMainStartTimestamp=Thu 2026-11-26 05:00:03 UTC\n",
      },
    ]);
    const s = await systemdStatus(unitDir(), deps(runner, true));
    expect(runner.remaining).toBe(0);
    expect(runner.calls[0]?.argv).toContain("NextElapseUSecRealtime");
    expect(s.timer).toMatchObject({
      activeState: "active",
      lastTrigger: null,
      nextElapse: "Thu 2026-11-26 02:00:00 UTC",
    });
    expect(s.service).toMatchObject({ activeState: "inactive", result: "success", lastExitStatus: "0" });
    expect(s.freshness).toMatchObject({ result: "exit-code", lastStart: "Thu 2026-11-26 05:00:03 UTC" });
  });

  test("an install from before the freshness check: status names the missing files, install adds them", async () => {
    await install();
    for (const name of [FRESHNESS_SERVICE, FRESHNESS_TIMER]) rmSync(join(unitDir(), name));
    const s = await systemdStatus(unitDir(), deps(new FakeRunner(), false));
    expect(s.files.map((f) => f.status)).toEqual(["current", "current", "missing", "missing"]);
    const runner = new FakeRunner([], [{ argv: (a) => a[0] === "systemd-analyze" }]);
    const r = await installUnits(
      { unitDir: unitDir(), binary, force: false, enable: true, dryRun: false },
      deps(runner, false),
    );
    expect(r.files.map((f) => f.action)).toEqual(["unchanged", "unchanged", "create", "create"]);
    expect(r.toRun).toEqual([
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", TIMER_UNIT, FRESHNESS_TIMER],
    ]);
  });
});

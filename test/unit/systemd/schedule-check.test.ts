import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_CONFIG_PATH } from "../../../src/config/load.ts";
import type { Check } from "../../../src/core/doctor.ts";
import { FRESHNESS_SERVICE } from "../../../src/systemd/freshness-units.ts";
import { installUnits } from "../../../src/systemd/install.ts";
import { type CheckedConfig, scheduleChecks } from "../../../src/systemd/schedule-check.ts";
import { SERVICE_UNIT, TIMER_UNIT } from "../../../src/systemd/units.ts";
import { FakeRunner } from "../../fakes/fake-runner.ts";
import { tempDir } from "../../helpers/env.ts";

let dir: { path: string; remove: () => void };
let binary: string;
let config: string;
beforeEach(() => {
  dir = tempDir("kd-schedule-check-");
  binary = join(dir.path, "kopi-docka");
  writeFileSync(binary, "#!/bin/sh\n");
  chmodSync(binary, 0o755);
  config = join(dir.path, "config.toml");
  writeFileSync(config, "");
  mkdirSync(unitDir());
});
afterEach(() => dir.remove());

const unitDir = () => join(dir.path, "units");
const deps = (runner: FakeRunner, systemdRunning = true) => ({ runner, warn: () => {}, systemdRunning });
const checked = (file = config): CheckedConfig => ({ file, expected: file });

async function install(configPath: string | undefined = config): Promise<void> {
  const runner = new FakeRunner([], [{ argv: (a) => a[0] === "systemd-analyze" }]);
  await installUnits(
    { unitDir: unitDir(), binary, configPath, force: false, enable: false, dryRun: false },
    deps(runner, false),
  );
}

/** `systemctl show` of the timer, the service and the freshness service, in that order (strict). */
function systemctl(timer: string, service = "ActiveState=inactive\nResult=success\nExecMainStatus=0\n") {
  const show = (unit: string) => (a: readonly string[]) =>
    a[0] === "systemctl" && a[1] === "show" && a[a.length - 1] === unit;
  return new FakeRunner([
    { argv: show(TIMER_UNIT), stdout: timer },
    { argv: show(SERVICE_UNIT), stdout: service },
    { argv: show(FRESHNESS_SERVICE), stdout: "ActiveState=inactive\nResult=success\n" },
  ]);
}
const ENABLED =
  "LoadState=loaded\nActiveState=active\nUnitFileState=enabled\nNextElapseUSecRealtime=Thu 2026-11-26 02:00:00 UTC\n";

const statuses = (checks: Check[]) => checks.map((c) => c.status);

describe("doctor's schedule check", () => {
  // Cron may run the backups: the freshness lines judge (an overdue unit fails there).
  test("no timer installed where systemd runs: a warning naming `systemd install` and the freshness lines", async () => {
    const runner = systemctl("LoadState=not-found\nActiveState=inactive\n", "LoadState=not-found\n");
    const checks = await scheduleChecks(unitDir(), deps(runner), checked());
    expect(checks).toEqual([
      {
        id: "schedule",
        status: "warn",
        detail: `no backup timer (${join(unitDir(), TIMER_UNIT)}): unless another scheduler runs \`kopi-docka backup\`, nothing starts backups`,
        hint: `kopi-docka systemd install --config ${config}; the freshness lines show whether backups run`,
      },
    ]);
  });

  test("a timer installed but disabled: fail, naming `systemctl enable --now`", async () => {
    await install();
    const runner = systemctl("LoadState=loaded\nActiveState=inactive\nUnitFileState=disabled\n");
    const checks = await scheduleChecks(unitDir(), deps(runner), checked());
    expect(statuses(checks)).toEqual(["fail"]);
    expect(checks[0]?.detail).toBe(`${TIMER_UNIT} is disabled (inactive): it does not start at boot`);
    expect(checks[0]?.hint).toBe(`systemctl enable --now ${TIMER_UNIT}`);
  });

  test("an enabled timer whose last run failed: fail, naming journalctl", async () => {
    await install();
    const failed =
      "ActiveState=failed\nResult=exit-code\nExecMainStatus=3\nExecMainExitTimestamp=Thu 2026-11-26 02:14:09 UTC\n";
    const checks = await scheduleChecks(unitDir(), deps(systemctl(ENABLED, failed)), checked());
    expect(statuses(checks)).toEqual(["fail"]);
    expect(checks[0]?.detail).toBe(
      "the backup service's last run failed (exit-code, exit status 3, Thu 2026-11-26 02:14:09 UTC)",
    );
    expect(checks[0]?.hint).toContain(`journalctl -u ${SERVICE_UNIT}`);
  });

  test("an enabled, active timer whose last run succeeded: ok, with the next run", async () => {
    await install();
    const ok = "ActiveState=inactive\nResult=success\nExecMainExitTimestamp=Wed 2026-11-25 02:10:00 UTC\n";
    const checks = await scheduleChecks(unitDir(), deps(systemctl(ENABLED, ok)), checked());
    expect(checks).toEqual([
      {
        id: "schedule",
        status: "ok",
        detail: `${TIMER_UNIT} enabled, next run Thu 2026-11-26 02:00:00 UTC; last run ok, Wed 2026-11-25 02:10:00 UTC`,
      },
    ]);
  });

  test("enabled but stopped: fail, naming `systemctl start`", async () => {
    await install();
    const stopped = "LoadState=loaded\nActiveState=inactive\nUnitFileState=enabled\n";
    const checks = await scheduleChecks(unitDir(), deps(systemctl(stopped)), checked());
    expect(checks.map((c) => [c.status, c.hint])).toEqual([["fail", `systemctl start ${TIMER_UNIT}`]]);
  });

  test("the units name another config than doctor checked: warn, naming --config PATH", async () => {
    await install();
    const other = join(dir.path, "other.toml");
    const checks = await scheduleChecks(unitDir(), deps(systemctl(ENABLED)), checked(other));
    expect(statuses(checks)).toEqual(["ok", "warn"]);
    expect(checks[1]).toEqual({
      id: "schedule",
      status: "warn",
      detail: `the backup service reads ${config}; doctor checked ${other}`,
      hint: `kopi-docka doctor --config ${config}`,
    });
    // doctor on the embedded defaults (no --config, no /etc/kopi-docka/config.toml) says so too
    const fallback = { file: undefined, expected: DEFAULT_CONFIG_PATH };
    const d = await scheduleChecks(unitDir(), deps(systemctl(ENABLED)), fallback);
    expect(d[1]?.detail).toBe(
      `the backup service reads ${config}; doctor checked the embedded defaults (${DEFAULT_CONFIG_PATH} does not exist)`,
    );
  });

  test("the service's binary or config is gone: each a fail", async () => {
    await install();
    rmSync(binary);
    rmSync(config);
    const checks = await scheduleChecks(unitDir(), deps(systemctl(ENABLED)), checked());
    expect(checks.map((c) => [c.status, c.detail])).toEqual([
      ["ok", expect.stringContaining("enabled")],
      ["fail", `the backup service runs ${binary}: does not exist`],
      ["fail", `the backup service reads ${config}, which does not exist`],
    ]);
  });

  test("systemd not PID 1: a warning either way, and no systemctl call", async () => {
    const none = await scheduleChecks(unitDir(), deps(new FakeRunner(), false), checked());
    expect(none.map((c) => [c.status, c.detail])).toEqual([
      ["warn", "systemd is not running here and no timer is installed: nothing here starts backups"],
    ]);
    await install();
    const files = await scheduleChecks(unitDir(), deps(new FakeRunner(), false), checked());
    expect(files[0]?.detail).toContain("is installed, but systemd is not running here");
  });
});

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText } from "../../../src/config/load.ts";
import { ConfigError, UsageError } from "../../../src/core/errors.ts";
import { installUnits } from "../../../src/systemd/install.ts";
import { configSchedule, parseDelayFlag, resolveSchedule } from "../../../src/systemd/settings.ts";
import { TIMER_UNIT } from "../../../src/systemd/units.ts";
import { FakeRunner } from "../../fakes/fake-runner.ts";
import { tempDir } from "../../helpers/env.ts";

const calendarOk = (expr: string) => ({ argv: ["systemd-analyze", "calendar", expr], stdout: "ok\n" });

describe("[schedule] config keys", () => {
  test("both keys are optional and unset by default (so an installed timer is kept)", () => {
    expect(parseConfigText("", "c.toml").schedule).toEqual({});
    const c = parseConfigText(
      '[schedule]\non_calendar = "Sun 04:00"\nrandomized_delay_sec = 900\n',
      "c.toml",
    );
    expect(c.schedule).toEqual({ on_calendar: "Sun 04:00", randomized_delay_sec: 900 });
  });

  test("bad values name the key and the line", () => {
    const cases: [string, string][] = [
      ['[schedule]\n\non_calendar = ""\n', "c.toml:3: schedule.on_calendar"],
      [
        "[schedule]\nrandomized_delay_sec = -5\n",
        "c.toml:2: schedule.randomized_delay_sec: must be at least 0",
      ],
      ["[schedule]\nrandomized_delay_sec = 1.5\n", "c.toml:2: schedule.randomized_delay_sec"],
      ["[schedule]\noncalendar = 'daily'\n", "c.toml:2: schedule.oncalendar: unknown key"],
    ];
    for (const [text, expected] of cases) {
      const error = (() => {
        try {
          parseConfigText(text, "c.toml");
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(expected);
    }
  });
});

describe("schedule precedence: flag > config > installed timer > default", () => {
  const flag = { onCalendar: "hourly", randomizedDelaySec: 1 };
  const config = { onCalendar: "daily", randomizedDelaySec: 2 };
  const installed = { onCalendar: "weekly", randomizedDelaySec: 3 };

  test("each level wins over the ones below it, value by value", () => {
    expect(resolveSchedule(flag, config, installed)).toEqual({
      onCalendar: "hourly",
      onCalendarFrom: "flag",
      randomizedDelaySec: 1,
      randomizedDelayFrom: "flag",
    });
    expect(resolveSchedule({ randomizedDelaySec: 0 }, config, installed)).toEqual({
      onCalendar: "daily",
      onCalendarFrom: "config",
      randomizedDelaySec: 0,
      randomizedDelayFrom: "flag",
    });
    expect(resolveSchedule({}, { randomizedDelaySec: 2 }, installed)).toEqual({
      onCalendar: "weekly",
      onCalendarFrom: "installed timer",
      randomizedDelaySec: 2,
      randomizedDelayFrom: "config",
    });
    expect(resolveSchedule({}, {}, {})).toEqual({
      onCalendar: "*-*-* 02:00:00",
      onCalendarFrom: "default",
      randomizedDelaySec: 0,
      randomizedDelayFrom: "default",
    });
  });

  test("--randomized-delay-sec takes whole seconds only", () => {
    expect(parseDelayFlag(undefined)).toBeUndefined();
    expect(parseDelayFlag("900")).toBe(900);
    for (const bad of ["", "15min", "-1", "1.5", "604801"])
      expect(() => parseDelayFlag(bad)).toThrow(UsageError);
  });
});

describe("systemd install with a [schedule] table", () => {
  let dir: { path: string; remove: () => void };
  beforeEach(() => {
    dir = tempDir("kd-sysd-settings-");
  });
  afterEach(() => dir.remove());

  const install = (runner: FakeRunner, over: object = {}) =>
    installUnits(
      {
        unitDir: dir.path,
        binary: "/usr/local/bin/kopi-docka",
        force: true,
        enable: false,
        dryRun: false,
        ...over,
      },
      { runner, warn: () => {}, systemdRunning: false },
    );
  const writeConfig = (text: string) => {
    const file = join(dir.path, "config.toml");
    writeFileSync(file, text);
    return configSchedule(parseConfigText(text, file), file);
  };

  test("config beats the installed timer; the timer file carries both values", async () => {
    await install(new FakeRunner([calendarOk("weekly")]), { onCalendar: "weekly", randomizedDelaySec: 60 });
    const schedule = writeConfig('[schedule]\non_calendar = "Sat 03:00"\n');
    const r = await install(new FakeRunner([calendarOk("Sat 03:00")]), { schedule });
    expect([r.onCalendar, r.scheduleFrom, r.randomizedDelaySec, r.randomizedDelayFrom]).toEqual([
      "Sat 03:00",
      "config",
      60,
      "installed timer",
    ]);
    const timer = readFileSync(join(dir.path, TIMER_UNIT), "utf8");
    expect(timer).toContain("OnCalendar=Sat 03:00\n");
    expect(timer).toContain("RandomizedDelaySec=60\n");
  });

  test("an on_calendar systemd rejects is a config error with key and line; nothing is written", async () => {
    const schedule = writeConfig('# mine\n[schedule]\nrandomized_delay_sec = 5\non_calendar = "nightly"\n');
    const runner = new FakeRunner([
      { argv: ["systemd-analyze", "calendar", "nightly"], exitCode: 1, stderr: "Failed to parse\n" },
    ]);
    const error = await install(runner, { schedule }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(`config.toml:4: schedule.on_calendar: [schedule] on_calendar "nightly"`);
    expect(error.message).toContain("Failed to parse");
    expect(() => readFileSync(join(dir.path, TIMER_UNIT))).toThrow();
  });
});

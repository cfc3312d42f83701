import { describe, expect, test } from "bun:test";
import { lineDiff } from "../../../src/systemd/diff.ts";
import { installedParams, parseSystemctlShow, splitExec, unitValue } from "../../../src/systemd/parse.ts";
import { toRuntime } from "../../../src/systemd/systemctl.ts";
import { renderServiceUnit, renderTimerUnit } from "../../../src/systemd/units.ts";

describe("values back out of the units we render", () => {
  test.each<{ binary: string; configPath?: string; timeoutStartSec?: number }>([
    { binary: "/usr/local/bin/kopi-docka", configPath: "/etc/kopi-docka/config.toml" },
    { binary: "/usr/local/bin/kopi-docka", timeoutStartSec: 13500 },
    { binary: "/opt/kopi docka/bin", configPath: '/etc/a%b "c"\\d.toml' },
    { binary: "/usr/bin/kd" },
    { binary: "/usr/bin/kd", configPath: "/etc/kd/$HOME-config.toml" },
  ])("binary and config survive the Exec= quoting, odd characters included: $binary", (params) => {
    expect(installedParams(renderServiceUnit(params), undefined)).toEqual(params);
  });

  test("the schedule comes from OnCalendar= and RandomizedDelaySec=", () => {
    const timer = renderTimerUnit({ onCalendar: "Mon..Fri 23:30" });
    expect(installedParams(undefined, timer)).toEqual({
      onCalendar: "Mon..Fri 23:30",
      randomizedDelaySec: 0,
    });
    const spread = renderTimerUnit({ onCalendar: "daily", randomizedDelaySec: 900 });
    expect(installedParams(undefined, spread).randomizedDelaySec).toBe(900);
    const handEdited = spread.replace("RandomizedDelaySec=900", "RandomizedDelaySec=15min");
    expect(installedParams(undefined, handEdited).randomizedDelaySec).toBeUndefined();
    expect(unitValue(timer, "Persistent")).toBe("true");
    expect(unitValue(timer, "Nope")).toBeUndefined();
  });

  test("splitExec reads quoted words", () => {
    expect(splitExec('"/a b/c" backup --config /x%%y.toml')).toEqual([
      "/a b/c",
      "backup",
      "--config",
      "/x%y.toml",
    ]);
  });
});

describe("systemctl show output", () => {
  const timerShow = `LoadState=loaded
ActiveState=active
SubState=waiting
UnitFileState=enabled
Result=success
LastTriggerUSec=Wed 2026-11-25 02:00:03 UTC
NextElapseUSecRealtime=Thu 2026-11-26 02:00:00 UTC
`;
  const serviceShow = `LoadState=loaded
ActiveState=inactive
SubState=dead
UnitFileState=static
Result=exit-code
ExecMainStatus=3
ExecMainStartTimestamp=Wed 2026-11-25 02:00:03 UTC
ExecMainExitTimestamp=Wed 2026-11-25 02:14:41 UTC

LoadState=not-found
ActiveState=inactive
ExecMainStartTimestamp=n/a
ExecMainStatus=0
`;

  test("key=value lines, one block per unit", () => {
    const blocks = parseSystemctlShow(serviceShow);
    expect(blocks).toHaveLength(2);
    expect(blocks[0]?.ExecMainStatus).toBe("3");
    expect(blocks[1]?.LoadState).toBe("not-found");
    // A value may itself contain "=".
    expect(parseSystemctlShow("Environment=A=1 B=2\n")[0]).toEqual({ Environment: "A=1 B=2" });
  });

  test("timer state: last trigger, next elapse, result", () => {
    expect(toRuntime("kopi-docka-backup.timer", parseSystemctlShow(timerShow)[0] ?? {})).toEqual({
      unit: "kopi-docka-backup.timer",
      loadState: "loaded",
      activeState: "active",
      subState: "waiting",
      unitFileState: "enabled",
      result: "success",
      lastTrigger: "Wed 2026-11-25 02:00:03 UTC",
      nextElapse: "Thu 2026-11-26 02:00:00 UTC",
      lastExitStatus: null,
      lastStart: null,
      lastExit: null,
    });
  });

  test("service state: the last run's result and exit status; n/a means never", () => {
    const [ran, never] = parseSystemctlShow(serviceShow);
    const last = toRuntime("kopi-docka-backup.service", ran ?? {});
    expect(last).toMatchObject({
      result: "exit-code",
      lastExitStatus: "3",
      lastStart: "Wed 2026-11-25 02:00:03 UTC",
      lastExit: "Wed 2026-11-25 02:14:41 UTC",
      lastTrigger: null,
    });
    expect(toRuntime("kopi-docka-backup.service", never ?? {})).toMatchObject({
      loadState: "not-found",
      lastStart: null,
      result: null,
    });
  });
});

describe("lineDiff", () => {
  test("shows only changed lines, old before new", () => {
    expect(lineDiff("a\nb\nc\n", "a\nB\nc\nd\n")).toEqual(["- b", "+ B", "+ d"]);
    expect(lineDiff("same\n", "same\n")).toEqual([]);
    expect(lineDiff("", "x")).toEqual(["- ", "+ x"]);
  });
});

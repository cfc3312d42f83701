import { describe, expect, test } from "bun:test";
import {
  MIN_TIMEOUT_STOP_SEC,
  renderServiceUnit,
  renderTimerUnit,
  UNIT_MARKER,
} from "../../../src/systemd/units.ts";

const lines = (text: string) => text.split("\n");

describe("systemd units", () => {
  test("the service recovers after every stop and lets kopi-docka drive its children", () => {
    const unit = renderServiceUnit({
      binary: "/usr/local/bin/kopi-docka",
      configPath: "/etc/kopi-docka/config.toml",
    });
    expect(lines(unit)).toContain(
      "ExecStart=/usr/local/bin/kopi-docka backup --config /etc/kopi-docka/config.toml",
    );
    expect(lines(unit)).toContain(
      "ExecStopPost=/usr/local/bin/kopi-docka recover --config /etc/kopi-docka/config.toml",
    );
    expect(lines(unit)).toContain("KillMode=mixed");
    expect(lines(unit)).toContain("Type=oneshot");
    expect(lines(unit)).toContain("TimeoutStopSec=900");
  });

  test("the stop timeout never drops below what restarts need; odd paths are quoted", () => {
    const unit = renderServiceUnit({
      binary: "/opt/kopi docka/bin",
      timeoutStopSec: 5,
      configPath: "/etc/a%b.toml",
    });
    expect(lines(unit)).toContain(`TimeoutStopSec=${MIN_TIMEOUT_STOP_SEC}`);
    expect(lines(unit)).toContain('ExecStart="/opt/kopi docka/bin" backup --config /etc/a%%b.toml');
    expect(() => renderServiceUnit({ binary: "kopi-docka" })).toThrow();
  });

  test("timer", () => {
    const t = renderTimerUnit({ onCalendar: "*-*-* 02:00:00", randomizedDelaySec: 600 });
    expect(lines(t)).toEqual(
      expect.arrayContaining([
        "OnCalendar=*-*-* 02:00:00",
        "RandomizedDelaySec=600",
        "Persistent=true",
        "WantedBy=timers.target",
      ]),
    );
    expect(() => renderTimerUnit({ onCalendar: "daily\nExecStart=/bin/sh" })).toThrow();
  });

  test("both units start with the marker line that uninstall looks for", () => {
    expect(lines(renderServiceUnit({ binary: "/usr/bin/kd" }))[0]).toBe(UNIT_MARKER);
    expect(lines(renderTimerUnit({ onCalendar: "daily" }))[0]).toBe(UNIT_MARKER);
    expect(UNIT_MARKER.startsWith("#")).toBe(true);
  });
});

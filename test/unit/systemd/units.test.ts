import { describe, expect, test } from "bun:test";
import { ConfigSchema } from "../../../src/config/schema.ts";
import {
  MIN_TIMEOUT_STOP_SEC,
  renderServiceUnit,
  renderTimerUnit,
  serviceStartTimeout,
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
    expect(lines(unit)).toContain("TimeoutStartSec=infinity");
    // Ordered after Docker, never bound to its unit's name (snap's is another).
    expect(lines(unit)).toContain("Wants=network-online.target docker.service");
    expect(lines(unit)).toContain("After=network-online.target docker.service");
    expect(unit).not.toContain("Requires=");
  });

  test("the service always has a finite start timeout: a day's backstop, more where max_cold_seconds asks", () => {
    // A run hung outside any cold window must not swallow every later night's start.
    expect(serviceStartTimeout(ConfigSchema.parse({}))).toBe(23 * 3600);
    const small = ConfigSchema.parse({ backup: { max_cold_seconds: 300 } });
    expect(serviceStartTimeout(small)).toBe(23 * 3600);
    const c = ConfigSchema.parse({
      backup: { max_cold_seconds: 300, stop_timeout: 30, start_timeout: 60 },
      units: { big: { max_cold_seconds: 9000 } },
    });
    expect(serviceStartTimeout(c)).toBe(10 * (9000 + 30 + 60) + 3600);
    const unit = renderServiceUnit({ binary: "/usr/bin/kd", timeoutStartSec: serviceStartTimeout(c) });
    expect(lines(unit)).toContain("TimeoutStartSec=94500");
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

  test("Exec= values: $ and % escaped, odd characters quoted, control characters refused", () => {
    const unit = renderServiceUnit({ binary: "/usr/bin/kd", configPath: '/etc/$HOME/a b"c\\%n.toml' });
    expect(lines(unit)).toContain('ExecStart=/usr/bin/kd backup --config "/etc/$$HOME/a b\\"c\\\\%%n.toml"');
    const plain = renderServiceUnit({ binary: "/usr/bin/kd", configPath: "/etc/$x.toml" });
    expect(lines(plain)).toContain('ExecStart=/usr/bin/kd backup --config "/etc/$$x.toml"');
    for (const bad of ["/etc/a\nExecStartPre=/bin/sh -c id", "/etc/a\rb", "/etc/a\u0000b", "/etc/a\tb"]) {
      expect(() => renderServiceUnit({ binary: "/usr/bin/kd", configPath: bad })).toThrow(
        "control character",
      );
      expect(() => renderServiceUnit({ binary: bad })).toThrow("control character");
    }
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

describe("systemd hardening", () => {
  const unit = renderServiceUnit({ binary: "/usr/local/bin/kopi-docka", configPath: "/etc/kd.toml" });

  test("the service is sandboxed, but keeps /tmp, /home and /proc as the host has them", () => {
    for (const line of [
      "UMask=0077",
      "NoNewPrivileges=yes",
      "ProtectKernelTunables=yes",
      "ProtectKernelModules=yes",
      "ProtectKernelLogs=yes",
      "ProtectControlGroups=yes",
      "RestrictSUIDSGID=yes",
      "LockPersonality=yes",
      "SystemCallArchitectures=native",
    ]) {
      expect(lines(unit)).toContain(line);
    }
    // A bind source under /tmp or /home must be read as it is on the host, never as an empty dir.
    expect(unit).not.toMatch(/^(PrivateTmp|ProtectHome|ProtectProc|ProcSubset|PrivateNetwork)=/m);
  });
});

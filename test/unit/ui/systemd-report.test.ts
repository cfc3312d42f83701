import { describe, expect, test } from "bun:test";
import type { InstallResult } from "../../../src/systemd/install.ts";
import type { SystemdStatus } from "../../../src/systemd/status.ts";
import { installText, statusText, uninstallText } from "../../../src/ui/systemd-report.ts";

const installed: InstallResult = {
  applied: true,
  unitDir: "/etc/systemd/system",
  binary: "/usr/local/bin/kopi-docka",
  configPath: "/etc/kopi-docka/config.toml",
  onCalendar: "daily",
  scheduleFrom: "flag",
  randomizedDelaySec: 600,
  randomizedDelayFrom: "config",
  files: [
    {
      name: "a.service",
      path: "/u/a.service",
      action: "replace",
      backup: "/u/a.service.bak-1",
      content: "A\n",
    },
    { name: "a.timer", path: "/u/a.timer", action: "unchanged", content: "T\n" },
  ],
  ran: [],
  toRun: [
    ["systemctl", "daemon-reload"],
    ["systemctl", "enable", "--now", "a.timer"],
  ],
};

describe("systemd text output", () => {
  test("install names each file's fate and, without systemd, the exact commands to run", () => {
    expect(installText(installed)).toEqual([
      "schedule  OnCalendar=daily (flag), RandomizedDelaySec=600 (config)",
      "runs      /usr/local/bin/kopi-docka backup --config /etc/kopi-docka/config.toml",
      "replaced     /u/a.service (old file kept as /u/a.service.bak-1)",
      "unchanged    /u/a.timer",
      "systemd is not running here (no /run/systemd/system); run these where it does:",
      "  systemctl daemon-reload",
      "  systemctl enable --now a.timer",
    ]);
  });

  test("a dry run says what it would do and prints the unit contents", () => {
    const files = installed.files.map(({ backup: _, ...f }) => f);
    const lines = installText({ ...installed, applied: false, files, toRun: [] });
    expect(lines.slice(2)).toEqual([
      "would replace /u/a.service",
      "unchanged    /u/a.timer",
      "",
      "# /u/a.service",
      "A",
      "",
      "# /u/a.timer",
      "T",
    ]);
  });

  test("uninstall says what it removed and what it left alone", () => {
    const lines = uninstallText({
      unitDir: "/u",
      removed: ["/u/a.timer"],
      kept: ["/u/a.service"],
      ran: [["systemctl", "daemon-reload"]],
      toRun: [],
    });
    expect(lines).toEqual([
      "removed   /u/a.timer",
      "kept      /u/a.service (not written by kopi-docka)",
      "ran       systemctl daemon-reload",
    ]);
  });

  test("status flags a moved binary, a missing config and outdated files", () => {
    const s: SystemdStatus = {
      unitDir: "/u",
      files: [
        { name: "a.service", path: "/u/a.service", status: "outdated" },
        { name: "a.timer", path: "/u/a.timer", status: "current" },
      ],
      binary: "/opt/kd",
      binaryProblem: "does not exist",
      configPath: "/etc/kd.toml",
      configExists: false,
      onCalendar: "daily",
      randomizedDelaySec: 300,
      systemdRunning: true,
      timer: {
        unit: "a.timer",
        loadState: "loaded",
        activeState: "active",
        subState: "waiting",
        unitFileState: "enabled",
        result: "success",
        lastTrigger: null,
        nextElapse: "Thu 2026-11-26 00:00:00 UTC",
        lastExitStatus: null,
        lastStart: null,
        lastExit: null,
      },
      service: {
        unit: "a.service",
        loadState: "loaded",
        activeState: "inactive",
        subState: "dead",
        unitFileState: "static",
        result: "exit-code",
        lastTrigger: null,
        nextElapse: null,
        lastExitStatus: "3",
        lastStart: "Wed 2026-11-25 00:00:01 UTC",
        lastExit: "Wed 2026-11-25 00:09:00 UTC",
      },
      freshness: {
        unit: "kopi-docka-freshness.service",
        loadState: "loaded",
        activeState: "failed",
        subState: "failed",
        unitFileState: "static",
        result: "exit-code",
        lastTrigger: null,
        nextElapse: null,
        lastExitStatus: "1",
        lastStart: "Wed 2026-11-25 05:00:02 UTC",
        lastExit: "Wed 2026-11-25 05:00:03 UTC",
      },
    };
    expect(statusText(s)).toEqual([
      "outdated  /u/a.service",
      "current   /u/a.timer",
      "runs      /opt/kd  PROBLEM: does not exist",
      "config    /etc/kd.toml  PROBLEM: does not exist",
      "schedule  OnCalendar=daily, RandomizedDelaySec=300",
      "run `kopi-docka systemd install --force` to rewrite outdated files",
      "timer     active (enabled), last never, next Thu 2026-11-26 00:00:00 UTC",
      "service   inactive, last run Wed 2026-11-25 00:00:01 UTC: exit-code, exit status 3",
      "freshness last check Wed 2026-11-25 05:00:02 UTC: exit-code (a unit is overdue, or the check failed: kopi-docka check-freshness)",
    ]);
  });

  test("status names missing files for `systemd install` (an install from before the freshness check)", () => {
    const s: SystemdStatus = {
      unitDir: "/u",
      files: [
        { name: "a.service", path: "/u/a.service", status: "current" },
        { name: "f.timer", path: "/u/f.timer", status: "missing" },
      ],
      binary: "/opt/kd",
      binaryProblem: null,
      configPath: null,
      configExists: null,
      onCalendar: "daily",
      randomizedDelaySec: 0,
      systemdRunning: false,
      timer: null,
      service: null,
      freshness: null,
    };
    expect(statusText(s)).toContain("run `kopi-docka systemd install` to write the missing files");
  });
});

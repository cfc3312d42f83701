import { UNIT_DIR } from "./setup-timer.ts";

/** Flags of `kopi-docka systemd …`, kept here so the command file stays a thin wiring layer. */
export const unitDirArgs = {
  "unit-dir": {
    type: "string",
    description: "Where the units go",
    default: UNIT_DIR,
    valueHint: "dir",
  },
} as const;

export const installArgs = {
  ...unitDirArgs,
  "on-calendar": {
    type: "string",
    description: 'systemd OnCalendar (default: [schedule] on_calendar, the installed one, "*-*-* 02:00:00")',
    valueHint: "expr",
  },
  "randomized-delay-sec": {
    type: "string",
    description: "Delay each start by up to this many seconds, at random (default: config, installed, 0)",
    valueHint: "sec",
  },
  binary: {
    type: "string",
    description: "kopi-docka binary for ExecStart (default: this binary)",
    valueHint: "path",
  },
  enable: {
    type: "boolean",
    default: true,
    description: "Enable and start the timer (--no-enable: only write the files)",
  },
  force: {
    type: "boolean",
    description: "Replace unit files that differ (the old ones are kept as .bak-<time>)",
  },
} as const;

import { defineCommand } from "citty";
import { lockState, unlockStale } from "../core/lock/inspect.ts";
import { errorForExitStatus } from "../exit-codes.ts";
import { unitDirArgs } from "../systemd/args.ts";
import { requireUnitDir } from "../systemd/files.ts";
import { followLogs, readLogs } from "../systemd/logs.ts";
import { runNow } from "../systemd/run-now.ts";
import { systemdStatus } from "../systemd/status.ts";
import { systemdIsRunning } from "../systemd/systemctl.ts";
import { emit } from "../ui/output.ts";
import { lockLine, logsText, runNowText, unlockText } from "../ui/service-report.ts";
import { statusText } from "../ui/systemd-report.ts";
import { needs, requireRoot } from "./_context.ts";
import { commonArgs } from "./_shared.ts";

export const status = defineCommand({
  meta: {
    name: "status",
    description: "The installed units, what they run, the timer's state and the host lock. Exit 0.",
  },
  args: { ...commonArgs, ...unitDirArgs },
  async run({ args }) {
    const base = needs(args, "none");
    const units = await systemdStatus(requireUnitDir(args["unit-dir"]), {
      runner: base.runner,
      warn: (m) => base.log.warn(m),
      systemdRunning: systemdIsRunning(),
    });
    // The lock the installed service uses: its config's, unless --config names another.
    const config = args.config ?? (units.configExists ? (units.configPath ?? undefined) : undefined);
    const lock = lockState(needs({ ...args, config }, "config").paths.lockFile);
    emit(args, { ...units, lock }, (v) => [...statusText(v), lockLine(v.lock)]);
  },
});

export const unlock = defineCommand({
  meta: {
    name: "unlock",
    description: "Remove the host lock if its holder is gone; never a live one (exit 11).",
  },
  args: commonArgs,
  run({ args }) {
    requireRoot("systemd unlock", "the lock belongs to root's backups");
    emit(args, unlockStale(needs(args, "config").paths.lockFile), unlockText);
  },
});

export const logs = defineCommand({
  meta: {
    name: "logs",
    description: "The backup service's journal (without systemd: the last run records). Exit 0.",
  },
  args: {
    ...commonArgs,
    lines: { type: "string", description: "At most N lines (without systemd: N runs)", valueHint: "N" },
    since: {
      type: "string",
      description: "Since a time (journalctl's forms; without systemd: 2026-01-31, 7d)",
      valueHint: "when",
    },
    follow: { type: "boolean", description: "Keep printing new lines until Ctrl+C" },
  },
  async run({ args }) {
    const ctx = needs(args, "config");
    const deps = {
      runner: ctx.runner,
      systemdRunning: systemdIsRunning(),
      runsDir: ctx.paths.runsDir,
      warn: (line: string) => ctx.log.warn(line),
    };
    if (args.follow) return followLogs(args, { ...deps, signal: ctx.lifecycle.signal });
    const result = await readLogs(args, deps);
    if (result.source === "run-records") ctx.log.warn(result.note);
    emit(args, result, logsText);
  },
});

export const runNowCommand = defineCommand({
  meta: {
    name: "run-now",
    description:
      "Start the backup service now, as the timer would; --follow shows it and exits with its status.",
  },
  args: { ...commonArgs, follow: { type: "boolean", description: "Show its journal until it ends" } },
  async run({ args }) {
    requireRoot("systemd run-now", "it starts the backup service");
    const ctx = needs(args, "none");
    const deps = { runner: ctx.runner, systemdRunning: systemdIsRunning(), signal: ctx.lifecycle.signal };
    const result = await runNow(deps, { follow: Boolean(args.follow) });
    emit(args, result, runNowText);
    const failed =
      result.finished &&
      errorForExitStatus(result.finished.exitStatus ?? 1, `the backup service (${result.finished.result})`);
    if (failed) throw failed;
  },
});

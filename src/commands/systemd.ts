import { resolve } from "node:path";
import { defineCommand } from "citty";
import { installArgs, unitDirArgs } from "../systemd/args.ts";
import { resolveBinary } from "../systemd/binary.ts";
import { requireUnitDir } from "../systemd/files.ts";
import { installUnits, type SystemdDeps } from "../systemd/install.ts";
import { configSchedule, parseDelayFlag } from "../systemd/settings.ts";
import { systemdIsRunning } from "../systemd/systemctl.ts";
import { uninstallUnits } from "../systemd/uninstall.ts";
import { serviceStartTimeout } from "../systemd/units.ts";
import { emit } from "../ui/output.ts";
import { installText, uninstallText } from "../ui/systemd-report.ts";
import { type BaseContext, needs, requireRoot } from "./_context.ts";
import { commonArgs, dryRunArgs, jsonArgs, logArgs } from "./_shared.ts";
import { logs, runNowCommand, status, unlock } from "./systemd-service.ts";

/** These commands need neither kopia nor docker, nor the repository password. */
function systemdDeps(ctx: BaseContext): SystemdDeps {
  return { runner: ctx.runner, warn: (m) => ctx.log.warn(m), systemdRunning: systemdIsRunning() };
}

const install = defineCommand({
  meta: {
    name: "install",
    description:
      "Write and enable the nightly backup timer and its service. Exit 0, 2 if a file differs (--force).",
  },
  args: { ...commonArgs, ...dryRunArgs, ...installArgs },
  async run({ args }) {
    if (!args["dry-run"]) requireRoot("systemd install", "it writes unit files and enables the timer");
    const ctx = needs(args, "config");
    const path = ctx.configPath;
    const result = await installUnits(
      {
        unitDir: requireUnitDir(args["unit-dir"]),
        binary: resolveBinary(args.binary),
        configPath: path ? resolve(path) : undefined,
        onCalendar: args["on-calendar"],
        randomizedDelaySec: parseDelayFlag(args["randomized-delay-sec"]),
        schedule: configSchedule(ctx.config, path ? resolve(path) : undefined),
        timeoutStartSec: serviceStartTimeout(ctx.config),
        force: Boolean(args.force),
        enable: args.enable !== false,
        dryRun: Boolean(args["dry-run"]),
      },
      systemdDeps(ctx),
    );
    emit(args, result, installText);
  },
});

const uninstall = defineCommand({
  meta: {
    name: "uninstall",
    description: "Disable the timer and remove the units kopi-docka wrote (no others). Exit 0.",
  },
  args: { ...logArgs, ...jsonArgs, ...unitDirArgs },
  async run({ args }) {
    requireRoot("systemd uninstall", "it disables the timer and removes unit files");
    const result = await uninstallUnits(requireUnitDir(args["unit-dir"]), systemdDeps(needs(args, "none")));
    emit(args, result, uninstallText);
  },
});

export default defineCommand({
  meta: {
    name: "systemd",
    description:
      "Install, remove or inspect the systemd timer that runs the nightly backup; its logs, a run now, the lock.",
  },
  subCommands: { install, uninstall, status, logs, "run-now": runNowCommand, unlock },
});

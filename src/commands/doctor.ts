import { resolve } from "node:path";
import { defineCommand } from "citty";
import { errorMessage } from "../core/caught.ts";
import { doctorError, doctorReport, runDoctor } from "../core/doctor.ts";
import { unitDirArgs } from "../systemd/args.ts";
import { scheduleChecks } from "../systemd/schedule-check.ts";
import { systemdIsRunning } from "../systemd/systemctl.ts";
import { renderDoctor } from "../ui/doctor-report.ts";
import { emit } from "../ui/output.ts";
import { type AppContext, defaultKopiaChoice, needs } from "./_context.ts";
import { commonArgs } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "doctor",
    description:
      "Check docker, kopia, the config, the password, the repository and each replica, containers kopi-docka left stopped, the backup timer and each unit's last backup. " +
      "Exit 0 healthy, 1 a hard check failed.",
  },
  args: { ...commonArgs, ...unitDirArgs },
  async run({ args }) {
    // A config that does not load is one of the findings, not a reason to stop checking.
    let setup: AppContext | undefined;
    let configProblem: string | undefined;
    try {
      setup = needs(args, "reader");
    } catch (e) {
      configProblem = errorMessage(e);
    }
    const { runner, docker, log, lifecycle } = setup ?? needs(args, "none");
    const checked = setup && { file: setup.configPath, expected: setup.expectedConfigPath };
    const checks = await runDoctor({
      runner,
      docker,
      lifecycle,
      kopiaChoice: setup?.kopiaChoice ?? defaultKopiaChoice(runner),
      setup,
      configProblem,
      isRoot: process.getuid?.() === 0,
      progress: (line) => log.info(line),
      schedule: () =>
        scheduleChecks(
          resolve(args["unit-dir"]),
          { runner, warn: (m) => log.warn(m), systemdRunning: systemdIsRunning() },
          checked,
        ),
    });
    const report = doctorReport(checks);
    emit(args, report, renderDoctor);
    const error = doctorError(report);
    if (error) throw error;
  },
});

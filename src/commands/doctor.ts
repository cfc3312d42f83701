import { defineCommand } from "citty";
import { errorMessage } from "../core/caught.ts";
import { doctorError, doctorReport, runDoctor } from "../core/doctor.ts";
import { renderDoctor } from "../ui/doctor-report.ts";
import { emit } from "../ui/output.ts";
import { type AppContext, defaultKopiaChoice, needs } from "./_context.ts";
import { commonArgs } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "doctor",
    description:
      "Check docker, kopia, the config, the password and the repository. Exit 0 healthy, 1 a hard check failed.",
  },
  args: { ...commonArgs },
  async run({ args }) {
    // A config that does not load is one of the findings, not a reason to stop checking.
    let setup: AppContext | undefined;
    let configProblem: string | undefined;
    try {
      setup = needs(args, "reader");
    } catch (e) {
      configProblem = errorMessage(e);
    }
    const { runner, docker } = setup ?? needs(args, "none");
    const checks = await runDoctor({
      runner,
      docker,
      kopiaChoice: setup?.kopiaChoice ?? defaultKopiaChoice(runner),
      setup,
      configProblem,
      isRoot: process.getuid?.() === 0,
    });
    const report = doctorReport(checks);
    emit(args, report, renderDoctor);
    const error = doctorError(report);
    if (error) throw error;
  },
});

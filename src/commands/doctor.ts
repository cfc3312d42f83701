import { defineCommand } from "citty";
import { createDocker } from "../core/docker/docker.ts";
import { runDoctor } from "../core/doctor.ts";
import { AppError } from "../core/errors.ts";
import { createBunRunner } from "../core/process/runner.ts";
import { emit, renderTable } from "../ui/output.ts";
import { type AppContext, buildContext } from "./_context.ts";
import { commonArgs } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "doctor",
    description:
      "Check docker, kopia, the config, the password and the repository. Exit 0 healthy, 1 a hard check failed.",
  },
  args: { ...commonArgs },
  async run({ args }) {
    let setup: AppContext | undefined;
    let configProblem: string | undefined;
    try {
      setup = buildContext(args);
    } catch (e) {
      configProblem = e instanceof Error ? e.message : String(e);
    }
    const runner = setup?.runner ?? createBunRunner();
    const checks = await runDoctor({
      runner,
      docker: createDocker(runner),
      setup,
      configProblem,
      isRoot: process.getuid?.() === 0,
    });
    const failed = checks.filter((c) => c.status === "fail");
    emit(args, { healthy: failed.length === 0, checks }, (v) => [
      renderTable(
        ["CHECK", "STATUS", "DETAIL"],
        v.checks.map((c) => [c.id, c.status, c.detail]),
      ),
      ...v.checks.filter((x) => x.hint && x.status !== "ok").map((c) => `  ${c.id}: ${c.hint}`),
    ]);
    if (failed.length > 0) {
      throw new AppError(
        "check_failed",
        `${failed.length} check(s) failed: ${failed.map((c) => c.id).join(", ")}`,
      );
    }
  },
});

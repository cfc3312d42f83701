import { defineCommand } from "citty";
import { listFlag } from "../cli-args.ts";
import { SCOPES, type Scope } from "../config/schema.ts";
import { renderPlan, renderRecord } from "../core/backup/render.ts";
import { outcomeError } from "../core/backup/result.ts";
import { planFromHost, runBackup } from "../core/backup/run.ts";
import { printJson, printLine } from "../ui/output.ts";
import { createProgressReporter } from "../ui/progress.ts";
import { VERSION } from "../version.ts";
import { buildContext, requireRoot } from "./_context.ts";
import { commonArgs, dryRunArgs } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "backup",
    description:
      "Cold backup: stop each unit's containers, snapshot its data, start them again. " +
      "Exit 0 all units OK, 1 all failed, 3 some failed, 4 a container could not be restarted, 11 locked.",
  },
  args: {
    ...commonArgs,
    ...dryRunArgs,
    unit: { type: "string", description: "Only this unit (repeatable)", valueHint: "name" },
    scope: {
      type: "enum",
      options: [...SCOPES],
      description: "minimal | standard | full (default: backup.scope)",
    },
    wait: { type: "boolean", description: "Wait for another running backup instead of exiting 11" },
  },
  async run({ args, rawArgs }) {
    const dryRun = Boolean(args["dry-run"]);
    if (!dryRun) requireRoot("backup");
    const ctx = buildContext(args);
    const deps = { ...ctx, version: VERSION, progress: createProgressReporter({ log: ctx.log }) };
    const req = {
      units: listFlag(rawArgs, "unit"),
      scope: args.scope as Scope | undefined,
      wait: Boolean(args.wait),
    };
    if (dryRun) {
      const { plan } = await planFromHost(deps, { ...req, sizes: true });
      return args.json ? printJson(plan) : printLine(renderPlan(plan));
    }
    const record = await runBackup(deps, req);
    if (args.json) printJson(record);
    else printLine(renderRecord(record));
    const error = outcomeError(record);
    if (error) throw error;
  },
});

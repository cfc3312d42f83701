import { defineCommand } from "citty";
import { readHistory } from "../core/backup/history.ts";
import { renderHistory } from "../ui/backup-report.ts";
import { emit } from "../ui/output.ts";
import { needs } from "./_context.ts";
import { commonArgs } from "./_shared.ts";

export default defineCommand({
  meta: { name: "history", description: "Past backup runs, newest first, from the run records. Exit 0." },
  args: {
    ...commonArgs,
    unit: { type: "string", description: "Only runs that included this unit", valueHint: "name" },
    failed: { type: "boolean", description: "Only runs where something failed" },
    last: { type: "string", description: "At most N runs", valueHint: "N" },
  },
  run({ args }) {
    const ctx = needs(args, "config");
    const runs = readHistory(ctx.paths.runsDir, { unit: args.unit, failed: args.failed, last: args.last });
    emit(args, runs, renderHistory);
  },
});

import { defineCommand } from "citty";
import { readHistory, readRun } from "../core/backup/history.ts";
import { historyStats } from "../core/backup/history-stats.ts";
import { UsageError } from "../core/errors.ts";
import { renderHistory } from "../ui/backup-report.ts";
import { renderHistoryStats, renderRunDetail } from "../ui/history-report.ts";
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
    since: {
      type: "string",
      description: "Only runs since a date, time or age (7d, 12h)",
      valueHint: "when",
    },
    id: { type: "string", description: "One run in full: units, snapshots, errors", valueHint: "run-id" },
    stats: { type: "boolean", description: "Per unit: runs, ok, failed, durations, cold window" },
  },
  run({ args }) {
    const ctx = needs(args, "config");
    const warn = (line: string) => ctx.log.warn(line);
    if (args.id !== undefined) {
      if (args.stats || args.since || args.last || args.failed || args.unit)
        throw new UsageError("--id shows one run and takes no filter", "leave out the other flags");
      emit(args, readRun(ctx.paths.runsDir, args.id, warn), renderRunDetail);
      return;
    }
    const runs = readHistory(ctx.paths.runsDir, args, warn);
    if (args.stats) emit(args, historyStats(runs, new Date()), renderHistoryStats);
    else emit(args, runs, renderHistory);
  },
});

import { defineCommand } from "citty";
import { emptyRunRow, UNIT_ROW_HEADER, unitRow } from "../core/backup/render.ts";
import type { RunRecord } from "../core/backup/result.ts";
import { readRunRecords } from "../core/backup/runs.ts";
import { UsageError } from "../core/errors.ts";
import { emit, renderTable } from "../ui/output.ts";
import { buildContext } from "./_context.ts";
import { commonArgs } from "./_shared.ts";

function renderHistory(runs: RunRecord[]): string {
  if (runs.length === 0) return "no backup runs recorded";
  const rows = runs.flatMap((r) =>
    r.units.length ? r.units.map((u) => [r.runId, ...unitRow(u)]) : [[r.runId, ...emptyRunRow(r)]],
  );
  return renderTable(["RUN", ...UNIT_ROW_HEADER], rows);
}

export default defineCommand({
  meta: { name: "history", description: "Past backup runs, newest first, from the run records. Exit 0." },
  args: {
    ...commonArgs,
    unit: { type: "string", description: "Only runs that included this unit", valueHint: "name" },
    failed: { type: "boolean", description: "Only runs where something failed" },
    last: { type: "string", description: "At most N runs", valueHint: "N" },
  },
  run({ args }) {
    const ctx = buildContext(args);
    const last = args.last === undefined ? undefined : Number.parseInt(args.last, 10);
    if (last !== undefined && !(last > 0)) throw new UsageError("--last takes a positive number");
    let runs = readRunRecords(ctx.paths.runsDir).reverse();
    if (args.unit) {
      runs = runs
        .map((r) => ({ ...r, units: r.units.filter((u) => u.name === args.unit) }))
        .filter((r) => r.units.length > 0);
    }
    if (args.failed) runs = runs.filter((r) => r.units.some((u) => u.status !== "ok") || r.status !== "ok");
    runs = runs.slice(0, last);
    emit(args, runs, renderHistory);
  },
});

import { defineCommand } from "citty";
import { unitAges } from "../core/alerts/freshness.ts";
import { duration } from "../core/alerts/message.ts";
import { createAlertPhase } from "../core/alerts/phase.ts";
import { readRunRecords } from "../core/backup/runs.ts";
import { AppError } from "../core/errors.ts";
import { printJson, printLine, renderTable } from "../ui/output.ts";
import { buildContext } from "./_context.ts";
import { commonArgs } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "check-freshness",
    description:
      "Alert units whose last good backup is older than [alerts] max_age_hours (once per episode). " +
      "For its own timer. Exit 0 all fresh, 1 a unit is overdue.",
  },
  args: { ...commonArgs },
  async run({ args }) {
    const ctx = buildContext(args);
    const ages = unitAges(readRunRecords(ctx.paths.runsDir), ctx.config, new Date());
    const { units: alerted, results } = await createAlertPhase(ctx).missed();
    if (args.json) printJson({ units: ages, alerted, sent: results });
    else
      printLine(
        renderTable(
          ["UNIT", "LAST SUCCESS", "AGE", "LIMIT", "STATUS"],
          ages.map((a) => [
            a.unit,
            a.lastSuccess ?? "never",
            duration(a.ageMs),
            a.maxAgeHours > 0 ? `${a.maxAgeHours}h` : "off",
            a.overdue ? (alerted.includes(a.unit) ? "OVERDUE (alerted now)" : "OVERDUE") : "ok",
          ]),
        ),
      );
    const overdue = ages.filter((a) => a.overdue);
    if (overdue.length > 0)
      throw new AppError(
        "check_failed",
        `${overdue.length} unit(s) overdue: ${overdue.map((a) => a.unit).join(", ")}`,
      );
  },
});

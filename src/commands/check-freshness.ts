import { defineCommand } from "citty";
import { createAlertPhase } from "../core/alerts/phase.ts";
import { AppError } from "../core/errors.ts";
import { renderFreshness } from "../ui/alerts-report.ts";
import { emit } from "../ui/output.ts";
import { needs } from "./_context.ts";
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
    const ctx = needs(args, "config");
    const { ages, units: alerted, results } = await createAlertPhase(ctx).missed();
    emit(args, { units: ages, alerted, sent: results }, renderFreshness);
    const overdue = ages.filter((a) => a.overdue);
    if (overdue.length > 0)
      throw new AppError(
        "check_failed",
        `${overdue.length} unit(s) overdue: ${overdue.map((a) => a.unit).join(", ")}`,
      );
  },
});

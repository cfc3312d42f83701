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
      "Alert units whose last good backup is older than [alerts] max_age_hours (once per episode), " +
      "after sending the alerts earlier runs could not deliver. " +
      "For its own timer. Exit 0 all fresh, 1 a unit is overdue or an alert target cannot be resolved.",
  },
  args: { ...commonArgs },
  async run({ args }) {
    const ctx = needs(args, "config");
    const phase = createAlertPhase(ctx);
    const { ages, units: alerted, results } = await phase.checkFreshness();
    emit(args, { units: ages, alerted, sent: results }, renderFreshness);
    const overdue = ages.filter((a) => a.overdue);
    // A target its timer's environment cannot resolve (`${VAR}` set in an admin's shell only) would
    // leave every failed night unreported: this hourly check fails, so the unit shows failed.
    const silent = phase.problems.length > 0 ? `alerts cannot be sent: ${phase.problems.join("; ")}` : "";
    if (overdue.length > 0 || silent)
      throw new AppError(
        "check_failed",
        [
          overdue.length ? `${overdue.length} unit(s) overdue: ${overdue.map((a) => a.unit).join(", ")}` : "",
          silent,
        ]
          .filter(Boolean)
          .join("; "),
        silent
          ? {
              // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${file:…} syntax, shown as is
              hint: "under systemd, set the variables for kopi-docka's services too (an EnvironmentFile= in `systemctl edit`), or use ${file:/path} / url_file",
            }
          : {},
      );
  },
});

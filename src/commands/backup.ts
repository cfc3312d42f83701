import { defineCommand } from "citty";
import { repeatable, repeatedFlag } from "../cli-args.ts";
import { SCOPES } from "../config/schema.ts";
import { runWithAlerts } from "../core/alerts/around-run.ts";
import { outcomeError } from "../core/backup/result.ts";
import { planFromHost, runBackup } from "../core/backup/run.ts";
import { refreshAfterBackup } from "../core/dr/auto.ts";
import { oneOf } from "../core/guards.ts";
import { expiryPreview } from "../core/restore-points/act.ts";
import { exitCodeFor } from "../exit-codes.ts";
import { renderBackupPlan, renderRecord } from "../ui/backup-report.ts";
import { emit } from "../ui/output.ts";
import { createProgressReporter } from "../ui/progress.ts";
import { VERSION } from "../version.ts";
import { needs } from "./_context.ts";
import { commonArgs, dryRunArgs } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "backup",
    description:
      "Cold backup: stop each unit's containers, snapshot its data, start them again. " +
      "Exit 0 all units OK, 1 all failed, 3 some failed, 4 a container could not be restarted, " +
      "10 repository unusable or holding a kopia action kopi-docka did not set (nothing stopped), 11 locked.",
  },
  args: {
    ...commonArgs,
    ...dryRunArgs,
    unit: repeatable({ type: "string", description: "Only this unit (repeatable)", valueHint: "name" }),
    scope: {
      type: "enum",
      options: [...SCOPES],
      description: "minimal | standard | full (default: backup.scope)",
    },
    wait: { type: "boolean", description: "Wait for another running backup instead of exiting 11" },
  },
  async run({ args, rawArgs }) {
    const dryRun = Boolean(args["dry-run"]);
    const ctx = needs(args, dryRun ? "reader" : "writer", "backup");
    const deps = { ...ctx, version: VERSION, progress: createProgressReporter({ log: ctx.log }) };
    // Read inside the alert wrapper: a malformed `--unit` in a timer's override is reported like a typo.
    const request = () => ({
      units: repeatedFlag(rawArgs, "unit"),
      scope: oneOf(SCOPES, args.scope),
      wait: Boolean(args.wait),
    });
    if (dryRun) {
      const { plan } = await planFromHost(deps, { ...request(), sizes: true });
      // A refused unit makes no point, and retention leaves its points alone.
      const units = plan.units.filter((u) => !u.refused).map((u) => ({ name: u.name, backupId: u.backupId }));
      const retention = await expiryPreview(ctx, { runId: plan.runId, units, now: new Date() });
      return emit(args, { ...plan, retention }, renderBackupPlan);
    }
    const record = await runWithAlerts(
      { ...ctx, exitCodeFor, outcomeError },
      async (namesChecked, backedUp) => runBackup(deps, request(), namesChecked, backedUp),
    );
    const error = outcomeError(record);
    // One unit failing leaves the repository and config valid: the bundle still follows a change of them.
    if (record.status === "ok" || record.status === "partial")
      await refreshAfterBackup(ctx, { now: new Date(), version: VERSION });
    emit(args, record, renderRecord);
    if (error) throw error;
  },
});

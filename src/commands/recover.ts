import { defineCommand } from "citty";
import { recoverError, recoverUnderLock } from "../core/containers/recover-locked.ts";
import { emit } from "../ui/output.ts";
import { renderRecover } from "../ui/recover-report.ts";
import { needs } from "./_context.ts";
import { commonArgs } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "recover",
    description:
      "Start the containers a backup that died (crash, kill -9, power loss) left stopped. Safe to run any time; exit 0, 4 if one could not be started, 11 while another run holds the lock.",
  },
  args: {
    ...commonArgs,
    wait: { type: "boolean", description: "Wait for a running backup or restore instead of exiting 11" },
  },
  async run({ args }) {
    const ctx = needs(args, "writer", "recover");
    const report = await recoverUnderLock(ctx, { wait: Boolean(args.wait) });
    emit(args, report, renderRecover);
    const error = recoverError(report);
    if (error) throw error;
  },
});

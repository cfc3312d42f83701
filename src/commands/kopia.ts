import { defineCommand } from "citty";
import { AppError, UsageError } from "../core/errors.ts";
import { openRepository } from "../core/repository/open.ts";
import { forgetWhatItDeletes } from "../core/repository/snapshot-ledger.ts";
import { needs } from "./_context.ts";
import { configArgs, logArgs } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "kopia",
    description:
      "Run kopia on this host's repository connection: kopi-docka kopia -- ARGS (password in env, never argv). Exit: kopia's 0, else 1.",
  },
  args: { ...configArgs, ...logArgs },
  async run({ args, rawArgs }) {
    // Everything after `--` is kopia's, untouched (citty puts it in `_`; our flags come before it).
    const kopiaArgs = rawArgs.includes("--") ? rawArgs.slice(rawArgs.indexOf("--") + 1) : [];
    if (kopiaArgs.length === 0)
      throw new UsageError(
        "no kopia command given",
        "write it after --: kopi-docka kopia -- snapshot list --all",
      );
    const ctx = needs(args, "reader");
    await openRepository(ctx, "connect");
    const run = () => ctx.kopia.passthrough(kopiaArgs, { signal: ctx.lifecycle.signal });
    // Snapshots deleted by hand here are deletions, not losses: the snapshot ledger is told.
    const status = ["snapshot", "manifest"].includes(kopiaArgs[0] ?? "")
      ? await forgetWhatItDeletes(ctx.kopia, ctx.paths.stateDir, run)
      : await run();
    if (status !== 0) throw new AppError("process_failed", `kopia exited with code ${status}`);
  },
});

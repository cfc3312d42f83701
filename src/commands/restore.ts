import { defineCommand } from "citty";
import { repeatable, repeatedFlag } from "../cli-args.ts";
import { AppError, UsageError } from "../core/errors.ts";
import { createKopia } from "../core/kopia/kopia.ts";
import { onRepository } from "../core/repository/replicas.ts";
import { refusedError } from "../core/restore/execute.ts";
import { planForJson } from "../core/restore/plan-view.ts";
import { notStartedError } from "../core/restore/readiness.ts";
import { flagsComplete, requestFromFlags, restoreFlags } from "../core/restore/request.ts";
import {
  type PreparedRestore,
  prepareRestore,
  readRestorePoints,
  runRestore,
} from "../core/restore/session.ts";
import { emit } from "../ui/output.ts";
import { createRestoreProgress } from "../ui/restore-progress.ts";
import { renderRestorePlan, renderResult } from "../ui/restore-report.ts";
import { confirmRestore, restoreWizard } from "../ui/restore-wizard.ts";
import { VERSION } from "../version.ts";
import { needs } from "./_context.ts";
import { commonArgs, dryRunArgs } from "./_shared.ts";

const str = (description: string, valueHint?: string) => ({
  type: "string" as const,
  description,
  valueHint,
});
const bool = (description: string) => ({ type: "boolean" as const, description });

export default defineCommand({
  meta: {
    name: "restore",
    description:
      "Bring a unit back from a restore point: a wizard on a terminal (asking only what flags left open), " +
      "flags otherwise. Exit 0 restored (or, with --dry-run, planned), 1 failed, 2 missing flags or refused (nothing changed; --dry-run too, after the plan), 3 restored but with fewer files than the snapshot holds, 4 restored but a container could not be started again or is not running (exited, restarting, unhealthy) once started (or one a killed run left stopped), 11 another run holds the lock, 13 not root, 130 cancelled.",
  },
  args: {
    ...commonArgs,
    repository: {
      type: "string",
      description: "Read from `replica:NAME` (a [[replicas]] copy) instead of the primary repository",
      valueHint: "replica:NAME",
    },
    ...dryRunArgs,
    unit: str("Unit (compose project or container) to restore", "name"),
    run: str("Restore point: backup id, run id or <unit>@<backup_id> (see `snapshots`)", "id"),
    latest: bool("Use the newest complete restore point"),
    volume: repeatable(str("Restore only this volume (repeat, or comma-separated)", "name")),
    only: str("Restore only volumes, binds or recipe", "what"),
    "from-host": str("Use restore points recorded on another host", "host"),
    as: str("Side-by-side copy under this compose project name", "name"),
    "target-dir": str(
      "Where compose and project files go (default: where they were backed up from; <restore_dir>/<name> with --as)",
      "dir",
    ),
    start: bool("Start the unit afterwards (docker compose up -d, or the rebuilt docker run)"),
    "env-file": str("KEY=value lines for --start of a standalone container (redacted values)", "file"),
    "recreate-networks": bool("Replace existing networks whose driver or subnet differ"),
    "allow-path": repeatable(
      str("Confirm this exact host-internal or private path the plan names (repeat for more)", "path"),
    ),
    "replace-files": bool(
      "Replace compose and project files that differ from the backup (old ones kept as .bak)",
    ),
    yes: bool("Do not ask; needed without a terminal"),
  },
  async run({ args, rawArgs }) {
    const ctx = onRepository(needs(args, "writer", "restore"), args.repository, createKopia);
    const points = await readRestorePoints(ctx);
    const flags = restoreFlags(args, repeatedFlag(rawArgs, "volume"), repeatedFlag(rawArgs, "allow-path"));
    const wizard = ctx.interactive && !flagsComplete(flags);
    let prepared: PreparedRestore | undefined;
    const preview = async (r: Parameters<typeof prepareRestore>[1]) => {
      prepared = await prepareRestore(ctx, r, points);
      return prepared.plan;
    };
    const io = { signal: ctx.lifecycle.signal };
    const request = wizard
      ? await restoreWizard({ points, thisHost: ctx.hostname, preview, given: flags }, io)
      : requestFromFlags(flags, points, ctx.hostname);
    const ready = prepared ?? (await prepareRestore(ctx, request, points));
    if (args["dry-run"]) {
      emit(args, planForJson(ready.plan), () => renderRestorePlan(ready.plan));
      // A script checking with --dry-run must learn what the real run would do: refuse, exit 2.
      if (ready.plan.refusals.length) throw refusedError(ready.plan);
      return;
    }
    if (!wizard && !args.yes) {
      if (!ctx.interactive)
        throw new UsageError("restore overwrites data: pass --yes (or --dry-run to see the plan)");
      await confirmRestore(ready.plan, io);
    }
    const withProgress = { ...ctx, progress: createRestoreProgress({ log: ctx.log }) };
    const result = await runRestore(withProgress, ready, points, VERSION);
    // Written into the replica: the next sync from the primary (`--delete`) removes it there.
    if (result.undoPoint && args.repository?.startsWith("replica:"))
      ctx.log.warn(
        `undo point ${result.undoPoint} is in ${args.repository} only: the next sync of the primary to it removes it; restore it from there first if you need it`,
      );
    emit(args, result, renderResult);
    if (result.restartFailed?.length || result.notRunning?.length) throw notStartedError(result);
    if (result.incomplete?.length)
      throw new AppError(
        "partial_failure",
        `restored, but not every file came back:\n  ${result.incomplete.join("\n  ")}` +
          (result.held?.length ? `\nheld, not started: ${result.held.join(", ")}` : "") +
          (result.heldNext?.length ? `\n  ${result.heldNext.join("\n  ")}` : ""),
        {
          hint: "kopia keeps names as UTF-8 text: bytes that are not UTF-8 become U+FFFD, so two such names in one directory come back as one file; rename them at the source before the next backup",
        },
      );
  },
});

import { defineCommand } from "citty";
import { createJournal } from "../core/containers/journal.ts";
import { recoverContainers } from "../core/containers/recover.ts";
import { AppError } from "../core/errors.ts";
import { acquireLock } from "../core/lock/acquire.ts";
import { emit } from "../ui/output.ts";
import { buildContext, requireRoot } from "./_context.ts";
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
    requireRoot("recover");
    const ctx = buildContext(args);
    // Under the host-wide lock: a start must never land in the cold window of a run that is live now
    // (that run healed the journal itself when it took the lock). A dead run's lock is taken over.
    const lock = await acquireLock(ctx.paths.lockFile, {
      runId: `recover-${process.pid}-${Date.now()}`,
      command: "recover",
      wait: Boolean(args.wait),
      signal: ctx.lifecycle.signal,
      log: ctx.log,
    });
    const journal = createJournal(ctx.paths.journalDir, { warn: (m) => ctx.log.warn(m) });
    const pending = journal.entries().length;
    let result: Awaited<ReturnType<typeof recoverContainers>>;
    try {
      result = await recoverContainers({ docker: ctx.docker, journal, log: ctx.log });
    } finally {
      lock.release();
    }
    const left = journal.entries().length;
    const report = { ...result, pendingBefore: pending, leftForLiveRuns: left - result.failed.length };
    emit(args, report, (r) => {
      if (r.pendingBefore === 0)
        return "Nothing to recover: no container is recorded as stopped by kopi-docka.";
      const lines = [
        ...r.started.map((name) => `started  ${name}`),
        ...r.skipped.map((s) => `skipped  ${s.name}: ${s.reason}`),
        ...r.failed.map((f) => `FAILED   ${f.name}: ${f.reason}`),
      ];
      if (r.leftForLiveRuns > 0)
        lines.push(`${r.leftForLiveRuns} container(s) belong to a backup that is still running; left alone.`);
      return lines;
    });
    if (result.failed.length > 0) {
      throw new AppError(
        "restart_failed",
        `${result.failed.length} container(s) could not be started: ${result.failed.map((f) => f.name).join(", ")}`,
        { hint: "fix the cause (see above), then run `kopi-docka recover` again; the journal keeps them" },
      );
    }
  },
});

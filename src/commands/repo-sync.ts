import { defineCommand } from "citty";
import { AppError } from "../core/errors.ts";
import { withHostLock } from "../core/lock/host-lock.ts";
import { openRepository } from "../core/repository/open.ts";
import { replicaRepository, syncReplicas } from "../core/repository/replicas.ts";
import { emit } from "../ui/output.ts";
import { needs } from "./_context.ts";
import { commonArgs } from "./_shared.ts";

export const syncCommand = defineCommand({
  meta: {
    name: "sync",
    description:
      "Copy the repository to its [[replicas]] now (kopia repository sync-to). Exit 0, 3 a replica failed, 11 locked.",
  },
  args: {
    ...commonArgs,
    replica: { type: "string", description: "Only this replica (default: all)", valueHint: "name" },
    "accept-deleted": {
      type: "boolean",
      description: "The snapshots missing since the last check were deleted on purpose (kopia by hand)",
    },
  },
  async run({ args }) {
    const ctx = needs(args, "writer", "repo sync");
    if (args.replica) replicaRepository(ctx.config, args.replica); // a name that is none: before anything runs
    // Under the host lock, as a backup's own sync: never two first-sync checks of one location at once.
    const results = await withHostLock(ctx, "repo sync", {}, async () => {
      await openRepository(ctx, "connect");
      return syncReplicas(
        { ...ctx, signal: ctx.lifecycle.signal, acceptDeleted: Boolean(args["accept-deleted"]) },
        args.replica ? [args.replica] : undefined,
      );
    });
    emit(args, results, (rs) =>
      rs.length === 0
        ? "no replicas configured ([[replicas]] in the config)"
        : rs.map(
            (r) =>
              `replica ${r.name} (${r.location}): ${r.status === "ok" ? "copied" : `FAILED: ${r.error}`}`,
          ),
    );
    const failed = results.filter((r) => r.status === "failed").map((r) => r.name);
    if (failed.length)
      throw new AppError("partial_failure", `replica ${failed.join(", ")} failed`, {
        hint: "see the messages above",
      });
  },
});

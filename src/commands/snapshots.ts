import { defineCommand } from "citty";
import { createKopia } from "../core/kopia/kopia.ts";
import { onRepository } from "../core/repository/replicas.ts";
import { listRestorePoints } from "../core/restore/listing.ts";
import { emit } from "../ui/output.ts";
import { renderPoints } from "../ui/restore-report.ts";
import { needs } from "./_context.ts";
import { commonArgs } from "./_shared.ts";
import { deleteCommand, expireCommand, pinCommand, unpinCommand } from "./snapshots-manage.ts";

const subCommands = { delete: deleteCommand, pin: pinCommand, unpin: unpinCommand, expire: expireCommand };

export default defineCommand({
  meta: {
    name: "snapshots",
    description:
      "List restore points (one per unit per backup, newest first) and undo points. Exit 0 listed, 10 repository error.",
  },
  args: {
    ...commonArgs,
    repository: {
      type: "string",
      description: "Read from `replica:NAME` (a [[replicas]] copy) instead of the primary repository",
      valueHint: "replica:NAME",
    },
    unit: { type: "string", description: "Only this unit", valueHint: "name" },
    host: {
      type: "string",
      description: "Only points recorded on this host (default: all hosts)",
      valueHint: "host",
    },
  },
  subCommands,
  async run({ args }) {
    // citty runs a parent's `run` after its sub-command's too: listing is only for `snapshots` itself.
    if (args._.some((a) => a in subCommands)) return;
    const ctx = onRepository(needs(args, "reader"), args.repository, createKopia);
    const { points, undoPoints } = await listRestorePoints(ctx, { unit: args.unit, host: args.host });
    emit(args, { points, undoPoints }, (v) => renderPoints(v.points, v.undoPoints));
  },
});

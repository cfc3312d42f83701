import { defineCommand } from "citty";
import { readRestorePoints } from "../core/restore/session.ts";
import { emit } from "../ui/output.ts";
import { renderPoints } from "../ui/restore-report.ts";
import { buildContext } from "./_context.ts";
import { commonArgs } from "./_shared.ts";

export default defineCommand({
  meta: {
    name: "snapshots",
    description:
      "List restore points (one per unit per backup, newest first) and undo points. Exit 0 listed, 10 repository error.",
  },
  args: {
    ...commonArgs,
    unit: { type: "string", description: "Only this unit", valueHint: "name" },
    host: {
      type: "string",
      description: "Only points recorded on this host (default: all hosts)",
      valueHint: "host",
    },
  },
  async run({ args }) {
    const ctx = buildContext(args);
    const all = await readRestorePoints(ctx);
    const keep = (p: { unit: string; host: string }) =>
      (!args.unit || p.unit === args.unit) && (!args.host || p.host === args.host);
    const points = all.points.filter(keep);
    const undoPoints = all.undoPoints.filter(keep);
    emit(args, { points, undoPoints }, (v) => renderPoints(v.points, v.undoPoints));
  },
});

import { defineCommand } from "citty";
import { UsageError } from "../core/errors.ts";
import {
  deletePoints,
  expirePoints,
  pinPoints,
  readManagedPoints,
  unpinPoints,
} from "../core/restore-points/act.ts";
import { planDelete } from "../core/restore-points/plan.ts";
import { emit } from "../ui/output.ts";
import {
  confirmDelete,
  renderDeleted,
  renderDeletePlan,
  renderExpire,
  renderPinResult,
} from "../ui/points-admin-report.ts";
import { needs } from "./_context.ts";
import { commonArgs, dryRunArgs } from "./_shared.ts";

const waitArg = {
  wait: { type: "boolean", description: "Wait for a running backup or restore instead of exiting 11" },
} as const;
const runArg = {
  run: {
    type: "string",
    description: "A run id, backup id or unit@backup_id (`snapshots` lists them)",
    valueHint: "id",
  },
  host: {
    type: "string",
    description: "Act on this host's points (default: this host's own; for a host gone for good)",
    valueHint: "name",
  },
} as const;

export const deleteCommand = defineCommand({
  meta: {
    name: "delete",
    description: "Delete whole restore points: a run's, or the one a snapshot belongs to. Exit 0, 11 locked.",
  },
  args: {
    ...commonArgs,
    ...dryRunArgs,
    ...waitArg,
    ...runArg,
    snapshot: { type: "string", description: "A snapshot id: its whole restore point goes", valueHint: "id" },
    yes: { type: "boolean", description: "Do not ask; needed without a terminal" },
  },
  async run({ args }) {
    const ctx = needs(args, "writer", "snapshots delete");
    const sel = { run: args.run, snapshot: args.snapshot, host: args.host || ctx.hostname };
    const plan = planDelete(await readManagedPoints(ctx), sel);
    if (args["dry-run"]) return emit(args, plan, renderDeletePlan);
    if (!args.yes) {
      if (!ctx.interactive)
        throw new UsageError("delete removes restore points: pass --yes (or --dry-run to see them)");
      await confirmDelete(plan, { signal: ctx.lifecycle.signal });
    } else ctx.log.info(renderDeletePlan(plan).join("\n"));
    emit(args, await deletePoints(ctx, sel, plan, { wait: Boolean(args.wait) }), renderDeleted);
  },
});

export const pinCommand = defineCommand({
  meta: {
    name: "pin",
    description: "Pin a run's restore points: never deleted, never expired. Exit 0, 11 locked.",
  },
  args: {
    ...commonArgs,
    ...waitArg,
    ...runArg,
    reason: { type: "string", description: "Why (kept in the pin's name)", valueHint: "text" },
  },
  async run({ args }) {
    const ctx = needs(args, "writer", "snapshots pin");
    const sel = { run: args.run, host: args.host || ctx.hostname };
    const result = await pinPoints(ctx, sel, { reason: args.reason, wait: Boolean(args.wait) });
    emit(args, result, renderPinResult);
  },
});

export const unpinCommand = defineCommand({
  meta: { name: "unpin", description: "Remove every pin from a run's restore points. Exit 0, 11 locked." },
  args: { ...commonArgs, ...waitArg, ...runArg },
  async run({ args }) {
    const ctx = needs(args, "writer", "snapshots unpin");
    const sel = { run: args.run, host: args.host || ctx.hostname };
    emit(args, await unpinPoints(ctx, sel, { wait: Boolean(args.wait) }), renderPinResult);
  },
});

export const expireCommand = defineCommand({
  meta: {
    name: "expire",
    description: "Apply retention now, whole restore points only; pinned ones stay. Exit 0, 11 locked.",
  },
  args: {
    ...commonArgs,
    ...dryRunArgs,
    ...waitArg,
    "trust-clock": {
      type: "boolean",
      description:
        "The gaps in this host's backups were time that passed (it was off), not a clock set ahead, and a clock set back is to be counted by its dates (pin what to keep first): expire across them, now and from then on",
    },
  },
  async run({ args }) {
    const ctx = needs(args, "writer", "snapshots expire");
    const result = await expirePoints(ctx, {
      dryRun: Boolean(args["dry-run"]),
      wait: Boolean(args.wait),
      trustClock: Boolean(args["trust-clock"]),
    });
    emit(args, result, renderExpire);
  },
});

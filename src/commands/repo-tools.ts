import { join } from "node:path";
import { defineCommand } from "citty";
import { UsageError } from "../core/errors.ts";
import { withHostLock } from "../core/lock/host-lock.ts";
import { runMaintenance, verifyRepository } from "../core/repository/maintenance.ts";
import { afterPasswordChange, changePassword } from "../core/repository/password-change.ts";
import { selftest } from "../core/repository/selftest.ts";
import { emit } from "../ui/output.ts";
import { renderSelftest, renderVerify } from "../ui/repo-status.ts";
import { needs } from "./_context.ts";
import { commonArgs } from "./_shared.ts";

export const changePasswordCommand = defineCommand({
  meta: {
    name: "change-password",
    description:
      "Change the repository password (kopia's, then the password file, atomically). Exit 0, 2, 10, 11 locked, 12.",
  },
  args: {
    ...commonArgs,
    "new-password-file": {
      type: "string",
      description: "0600 file holding the new password (default: a new random one)",
      valueHint: "path",
    },
  },
  async run({ args }) {
    const ctx = needs(args, "writer", "repo change-password");
    const r = await changePassword(ctx, { newPasswordFile: args["new-password-file"] });
    const next = afterPasswordChange(ctx.config.replicas);
    emit(args, { ...r, next }, (v) => [
      `changed the repository password; ${v.file} holds the new one: copy it elsewhere`,
      ...v.next,
    ]);
  },
});

export const verifyCommand = defineCommand({
  meta: {
    name: "verify",
    description:
      "Check every snapshot (and read back --percent of the files). Exit 0, 1 damaged (named), 10.",
  },
  args: {
    ...commonArgs,
    percent: {
      type: "string",
      description: "Percent of file contents to read back (0-100, default 0)",
      valueHint: "N",
    },
  },
  async run({ args }) {
    const percent = Number(args.percent ?? "0");
    if (!Number.isFinite(percent) || percent < 0 || percent > 100)
      throw new UsageError(`--percent must be a number from 0 to 100, not ${args.percent}`);
    emit(args, await verifyRepository(needs(args, "reader"), percent), renderVerify);
  },
});

export const maintenanceCommand = defineCommand({
  meta: {
    name: "maintenance",
    description: "Run kopia's maintenance (quick, or --full). Exit 0, 2 not the owner, 10, 11 locked.",
  },
  args: {
    ...commonArgs,
    full: { type: "boolean", description: "Full maintenance (garbage collection, compaction)" },
    "set-owner": { type: "boolean", description: "Make this host the maintenance owner first" },
    "accept-deleted": {
      type: "boolean",
      description: "With --full: the snapshots missing since the last check were deleted on purpose",
    },
  },
  async run({ args }) {
    const ctx = needs(args, "writer", "repo maintenance");
    // Under the host lock: it may reconnect kopia, and never runs beside a backup's own maintenance.
    const r = await withHostLock(ctx, "repo maintenance", {}, () =>
      runMaintenance(ctx, {
        full: Boolean(args.full),
        setOwner: Boolean(args["set-owner"]),
        acceptDeleted: Boolean(args["accept-deleted"]),
        signal: ctx.lifecycle.signal,
      }),
    );
    emit(args, r, (v) => `${v.full ? "full" : "quick"} maintenance done (owner ${v.owner})`);
  },
});

export const selftestCommand = defineCommand({
  meta: { name: "selftest", description: "A throwaway repository, a round trip, cleaned up. Exit 0, 1." },
  args: { ...commonArgs },
  async run({ args }) {
    const ctx = needs(args, "config");
    emit(
      args,
      await selftest({
        runner: ctx.runner,
        scratchDir: join(ctx.paths.cacheDir, "selftest"),
        binary: async () => (await ctx.kopiaChoice()).command,
      }),
      renderSelftest,
    );
  },
});

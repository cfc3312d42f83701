import type { Config } from "../../config/schema.ts";
import { peekRunSequence } from "../backup/run-sequence.ts";
import { errorMessage } from "../caught.ts";
import { AppError, UsageError } from "../errors.ts";
import type { Kopia } from "../kopia/kopia.ts";
import type { SnapshotManifest } from "../kopia/parse.ts";
import { applyIdentityPolicy, identity, identityPolicyFlags } from "../kopia/policy.ts";
import { withHostLock } from "../lock/host-lock.ts";
import type { Logger } from "../log.ts";
import type { Runner } from "../process/runner.ts";
import { openRepository } from "../repository/open.ts";
import { forgetDeleted, ownerOf } from "../repository/snapshot-ledger.ts";
import { clockSteps } from "./clock-back.ts";
import { readClockEvidence, sampleClock, trustClockJumps } from "./clock-evidence.ts";
import type { ClockJump, RunClock } from "./clock-jumps.ts";
import { type ManagedPoint, managedPoints } from "./groups.ts";
import {
  type DeletePlan,
  type ExpirePlan,
  type PointSelector,
  planDelete,
  planExpire,
  planExpireAfterBackup,
  selectManaged,
} from "./plan.ts";

/** What managing restore points needs; structural, so the command's context satisfies it. */
export interface PointsAdminContext {
  config: Config;
  paths: { lockFile: string; stateDir: string; kopiaConfigFile: string; runsDir: string };
  runner: Runner;
  hostname: string;
  log: Logger;
  kopia: Kopia;
  lifecycle: { signal: AbortSignal };
}

/** The pin `pin` adds: `kopi-docka`, or `kopi-docka: <reason>`. */
export const pinName = (reason?: string) => (reason?.trim() ? `kopi-docka: ${reason.trim()}` : "kopi-docka");

/** Every kopi-docka restore point in the repository (never creates a repository). */
export async function readManagedPoints(ctx: PointsAdminContext): Promise<ManagedPoint[]> {
  return managedPoints(await readManifests(ctx));
}

async function readManifests(ctx: PointsAdminContext): Promise<SnapshotManifest[]> {
  await openRepository(ctx, "connect");
  return ctx.kopia.snapshotList({ signal: ctx.lifecycle.signal });
}

/**
 * `kopia snapshot delete` of `ids`, out of the snapshot ledger first: their absence is then known to
 * be kopi-docka's doing, not a lost index (`repository/snapshot-ledger.ts`).
 */
async function deleteSnapshots(
  ctx: Pick<PointsAdminContext, "kopia" | "lifecycle" | "paths">,
  manifests: readonly SnapshotManifest[],
  ids: readonly string[],
): Promise<void> {
  if (ids.length === 0) return;
  forgetDeleted(ctx.paths.stateDir, manifests, ids, ownerOf(ctx.kopia));
  await ctx.kopia.snapshotDelete(ids, { signal: ctx.lifecycle.signal });
}

/**
 * Deletes what `shown` listed. Under the lock the points are read again: if what the selector names
 * changed since it was shown (a backup or another delete in between), nothing is deleted.
 */
export async function deletePoints(
  ctx: PointsAdminContext,
  sel: PointSelector,
  shown: DeletePlan,
  o: { wait: boolean },
): Promise<DeletePlan> {
  return withHostLock(ctx, "snapshots delete", { wait: o.wait }, async () => {
    const manifests = await readManifests(ctx);
    const now = planDelete(managedPoints(manifests), sel);
    if ([...now.snapshotIds].sort().join() !== [...shown.snapshotIds].sort().join()) {
      throw new AppError(
        "check_failed",
        "the restore points changed since they were shown; nothing deleted",
        {
          hint: "run the command again to see what it deletes now",
        },
      );
    }
    await deleteSnapshots(ctx, manifests, now.snapshotIds);
    return now;
  });
}

/** What pin or unpin changed: the points and the pins added or removed. */
export interface PinResult {
  points: string[];
  added: string[];
  removed: string[];
  /** Every snapshot already had the pin: nothing was changed. */
  unchanged?: boolean;
}

/** Pins every snapshot of the selected points; pinned points are never deleted or expired. */
export async function pinPoints(
  ctx: PointsAdminContext,
  sel: PointSelector,
  o: { reason?: string; wait: boolean },
): Promise<PinResult> {
  needsRun(sel, "pin");
  return withHostLock(ctx, "snapshots pin", { wait: o.wait }, async () => {
    const chosen = selectManaged(await readManagedPoints(ctx), sel);
    const pin = pinName(o.reason);
    const ids = chosen.flatMap((p) => p.snapshots.filter((s) => !s.pins.includes(pin)).map((s) => s.id));
    await ctx.kopia.snapshotPin(ids, { add: [pin] });
    return {
      points: chosen.map((p) => p.key),
      added: [pin],
      removed: [],
      ...(ids.length ? {} : { unchanged: true }),
    };
  });
}

/** Removes every pin from every snapshot of the selected points. */
export async function unpinPoints(
  ctx: PointsAdminContext,
  sel: PointSelector,
  o: { wait: boolean },
): Promise<PinResult> {
  needsRun(sel, "unpin");
  return withHostLock(ctx, "snapshots unpin", { wait: o.wait }, async () => {
    const chosen = selectManaged(await readManagedPoints(ctx), sel);
    const removed = [...new Set(chosen.flatMap((p) => p.pins))];
    // One call: kopia rewrites each manifest it changes, so ids read before a first call go stale.
    const ids = chosen.flatMap((p) => p.snapshots.filter((s) => s.pins.length > 0).map((s) => s.id));
    await ctx.kopia.snapshotPin(ids, { remove: removed });
    return { points: chosen.map((p) => p.key), added: [], removed };
  });
}

/**
 * What `expire` did or would do; `policyPending`: kopia's own retention still to be switched off;
 * `trusted`: the gaps `--trust-clock` took (or would take) as time that passed, and the clocks set back
 * whose dates it took as they are.
 */
export type ExpireResult = ExpirePlan & { dryRun: boolean; policyPending: string[]; trusted: ClockJump[] };

/**
 * `snapshots expire`: sets kopi-docka's identity policy so kopia keeps every snapshot (as a backup does),
 * then removes the whole points past `[retention]`. `dryRun` reads only and takes no lock; the list
 * is the same, and `policyPending` names the policy change the real run would make first. `trustClock`:
 * the admin says every gap in this host's runs is time that passed (a host that was off, its clock
 * right), and every clock set back is to be counted by its dates (the points to keep pinned first);
 * both are recorded, so later backups count across them too.
 */
export async function expirePoints(
  ctx: PointsAdminContext,
  o: { dryRun: boolean; wait: boolean; trustClock?: boolean },
): Promise<ExpireResult> {
  const gaps = (points: readonly ManagedPoint[]) => {
    if (!o.trustClock) return [];
    return clockSteps(points, ctx.hostname, readClockEvidence(ctx.paths, ctx.hostname), new Date());
  };
  if (o.dryRun) {
    const points = await readManagedPoints(ctx);
    const policyPending = identityPolicyFlags(ctx.config, await ctx.kopia.policyShow(identity(ctx)));
    const clock = { ...readClockEvidence(ctx.paths, ctx.hostname), trustAll: Boolean(o.trustClock) };
    const plan = planExpire(points, ctx.hostname, ctx.config.retention, { clock });
    return { ...plan, dryRun: true, policyPending, trusted: gaps(points) };
  }
  return withHostLock(ctx, "snapshots expire", { wait: o.wait }, async () => {
    const trusted = gaps(await readManagedPoints(ctx)); // connects, never creating a repository at a mistyped path
    await applyIdentityPolicy(ctx.kopia, ctx.config, identity(ctx), ctx.log);
    trustClockJumps(
      ctx.paths.stateDir,
      trusted.map((j) => j.runId),
    );
    return { ...(await expireHeld(ctx)).plan, dryRun: false, policyPending: [], trusted };
  });
}

/**
 * Removes this host's points past `[retention]` (of `units` only, when given), the caller holding the
 * host lock (a backup at its end, `current` its run: its record is written after this). Every point
 * is read again first: a point is judged whole, as it is now. `left`: every host's points of that
 * list less those removed, what the repository holds once they are gone (a backup bounds its run
 * records by them, `backup/run-records-prune.ts`).
 */
export async function expireHeld(
  ctx: Pick<PointsAdminContext, "config" | "hostname" | "kopia" | "lifecycle" | "paths">,
  units?: readonly string[],
  current?: RunClock & { runId: string },
): Promise<{ plan: ExpirePlan; left: ManagedPoint[] }> {
  const manifests = await ctx.kopia.snapshotList({ signal: ctx.lifecycle.signal });
  const clock = readClockEvidence(ctx.paths, ctx.hostname, current);
  const points = managedPoints(manifests);
  const plan = planExpire(points, ctx.hostname, ctx.config.retention, { units, clock });
  await deleteSnapshots(ctx, manifests, plan.snapshotIds);
  return { plan, left: points.filter((p) => !plan.remove.includes(p)) };
}

/** What `backup --dry-run` says retention would then remove, or why that is not known (read only). */
export async function expiryPreview(
  ctx: Pick<PointsAdminContext, "config" | "hostname" | "kopia" | "lifecycle" | "paths">,
  run: { runId: string; units: readonly { name: string; backupId: string }[]; now: Date },
): Promise<
  { remove: string[]; skipped: ExpirePlan["skipped"]; held: ExpirePlan["held"] } | { unknown: string }
> {
  if (run.units.length === 0) return { remove: [], skipped: [], held: [] };
  try {
    // No connect here: a dry run changes nothing, kopia's connection included.
    const points = managedPoints(await ctx.kopia.snapshotList({ signal: ctx.lifecycle.signal }));
    const clock = sampleClock();
    const evidence = readClockEvidence(ctx.paths, ctx.hostname, {
      runId: run.runId,
      startedAt: run.now.toISOString(),
      ...(clock ? { clock } : {}),
      sequence: peekRunSequence(ctx.paths), // the number the run would take
    });
    const plan = planExpireAfterBackup(
      points,
      { host: ctx.hostname, ...run },
      ctx.config.retention,
      evidence,
    );
    return { remove: plan.remove.map((p) => p.key), skipped: plan.skipped, held: plan.held };
  } catch (e) {
    return { unknown: `the restore points could not be read (${errorMessage(e)})` };
  }
}

/** pin and unpin take `--run` only. */
function needsRun(sel: PointSelector, command: string): void {
  if (!sel.run)
    throw new UsageError(
      `name the run whose points to ${command}: --run ID`,
      "`kopi-docka snapshots` lists them",
    );
}

import * as p from "@clack/prompts";
import { InterruptedError } from "../core/errors.ts";
import { formatBytes, renderTable } from "../core/format.ts";
import type { ExpireResult, PinResult } from "../core/restore-points/act.ts";
import type { ManagedPoint } from "../core/restore-points/groups.ts";
import { type DeletePlan, heldLine } from "../core/restore-points/plan.ts";

const size = (pt: ManagedPoint) => formatBytes(pt.snapshots.reduce((n, s) => n + s.sizeBytes, 0));

/** One row per point: what goes (or stays), whole. */
function pointTable(points: readonly ManagedPoint[]): string {
  return renderTable(
    ["TIME", "UNIT", "HOST", "RUN", "BACKUP", "SNAPSHOTS", "SIZE"],
    points.map((pt) => [
      pt.timestamp,
      pt.unit,
      pt.host,
      pt.runId,
      pt.backupId,
      `${pt.snapshots.length}${pt.undo ? " (undo point)" : ""}`,
      size(pt),
    ]),
  );
}

/** What `snapshots delete` removes, shown before it does (and as its `--dry-run`). */
export function renderDeletePlan(plan: DeletePlan): string[] {
  return [
    `Deletes ${plan.points.length} restore point(s), ${plan.snapshotIds.length} snapshot(s), each point whole:`,
    pointTable(plan.points),
  ];
}

export function renderDeleted(plan: DeletePlan): string[] {
  return [
    `deleted ${plan.points.length} restore point(s), ${plan.snapshotIds.length} snapshot(s):`,
    ...plan.points.map((pt) => `  ${pt.key}`),
    "their data is freed by the next kopia maintenance",
  ];
}

export function renderPinResult(r: PinResult): string[] {
  const what = r.added.length
    ? `${r.unchanged ? "already pinned" : "pinned"} (${r.added.join(", ")})`
    : r.removed.length
      ? `unpinned (removed ${r.removed.join(", ")})`
      : "had no pin";
  return r.points.map((key) => `${key}: ${what}`);
}

/** `snapshots expire`: what retention removes now (or would, with --dry-run), what it keeps and why. */
export function renderExpire(plan: ExpireResult): string[] {
  const out: string[] = [];
  if (plan.policyPending.length)
    out.push(
      `this host's kopia policy is not yet as kopi-docka needs it: expire sets ${plan.policyPending.join(" ")} first (kopia's own retention off, so [retention] applies to whole points, never source by source)`,
    );
  if (plan.remove.length === 0) out.push("nothing past retention: no restore point removed");
  else {
    out.push(
      `${plan.dryRun ? "Would remove" : "Removed"} ${plan.remove.length} restore point(s) past retention (${plan.snapshotIds.length} snapshots):`,
      pointTable(plan.remove),
    );
  }
  if (plan.dryRun) for (const k of plan.kept) out.push(`kept ${k.key}: ${k.reasons.join(", ")}`);
  else if (plan.kept.length) out.push(`kept ${plan.kept.length} restore point(s) by [retention]`);
  for (const key of plan.pinned) out.push(`kept ${key}: pinned`);
  for (const s of plan.skipped) out.push(`retention not applied to ${s.unit}: ${s.reason}`);
  out.push(...plan.held.map(heldLine));
  const from = plan.dryRun ? "" : " from now on";
  for (const j of plan.trusted)
    out.push(
      j.back
        ? `${plan.dryRun ? "would take" : "took"} the clock set back at run ${j.runId} (dated ${j.to}, after ${j.from}) as it is: retention counts by these dates${from}`
        : `${plan.dryRun ? "would trust" : "trusted"} the gap from ${j.from} to ${j.to} (run ${j.runId}) as time that passed: retention counts across it${from}`,
    );
  if (plan.dryRun) out.push("dry run: nothing was changed");
  return out;
}

/** The delete plan, then yes/no (default no). Only on a terminal. */
export async function confirmDelete(plan: DeletePlan, io: { signal?: AbortSignal } = {}): Promise<void> {
  p.note(renderDeletePlan(plan).join("\n"), "snapshots delete", io);
  const ok = await p.confirm({ ...io, message: "Delete these restore points?", initialValue: false });
  if (p.isCancel(ok) || !ok) {
    p.cancel("nothing was deleted", io);
    throw new InterruptedError("SIGINT", "delete cancelled at the prompt");
  }
}

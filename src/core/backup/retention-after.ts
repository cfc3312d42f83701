import { errorMessage } from "../caught.ts";
import { expireHeld } from "../restore-points/act.ts";
import type { ManagedPoint } from "../restore-points/groups.ts";
import { heldLine } from "../restore-points/plan.ts";
import type { BackupPlan } from "./plan.ts";
import type { RunRecord } from "./result.ts";
import type { RunDeps } from "./run.ts";

/**
 * `[retention]` on the points of the units just backed up, whole points only, still under the lock and
 * before replicas copy the repository. A unit that failed (refused, half read) made no new point: its
 * points are kept as they are, however old, until one of its backups succeeds. Never fails the run:
 * the points stay, the next run tries again.
 *
 * Returns the points left in the repository (every host's) when retention judged every unit of the
 * plan and removed what it chose: the run records its clock evidence no longer needs are bounded by
 * them (`run-records-prune.ts`). Undefined when it did not (a unit refused or failed, one skipped for
 * a point dated ahead, no unit, the list or a delete failed): then no record is removed.
 */
export async function expireAfter(
  d: RunDeps,
  record: RunRecord,
  plan: BackupPlan,
): Promise<ManagedPoint[] | undefined> {
  const backedUp = plan.units.filter((u) => record.units.some((r) => r.name === u.name && r.status === "ok"));
  for (const u of plan.units.filter((x) => !backedUp.includes(x)))
    d.log.info(`retention not applied to ${u.name}: its backup did not succeed, its points are kept`);
  if (backedUp.length === 0) return undefined;
  try {
    const { plan: expired, left } = await expireHeld(
      d,
      backedUp.map((u) => u.name),
      {
        runId: record.runId,
        startedAt: record.startedAt,
        ...(record.clock ? { clock: record.clock } : {}),
        ...(record.sequence ? { sequence: record.sequence } : {}),
      },
    );
    // In the record too: the alert then says so (a warning), not only this host's journal.
    const clockWarnings = [
      ...expired.skipped.map((s) => `retention not applied to ${s.unit}: ${s.reason}`),
      ...expired.held.map(heldLine),
    ];
    for (const w of clockWarnings) d.log.warn(w);
    if (clockWarnings.length) record.warnings = [...(record.warnings ?? []), ...clockWarnings];
    if (expired.remove.length > 0) {
      record.expired = expired.remove.map((p) => p.key);
      d.log.info(
        `retention: removed ${expired.remove.length} restore point(s): ${record.expired.join(", ")}`,
      );
    }
    return backedUp.length === plan.units.length && expired.skipped.length === 0 ? left : undefined;
  } catch (e) {
    const message = `points past retention not removed: ${errorMessage(e)}`;
    record.errors.push({ phase: "retention", message });
    d.log.warn(`${message} (backups are fine; the next run tries again)`);
    return undefined;
  }
}

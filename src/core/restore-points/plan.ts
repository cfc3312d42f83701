import { AppError, UsageError } from "../errors.ts";
import { clockSteps } from "./clock-back.ts";
import {
  CLOCK_SLACK_MS,
  type ClockEvidence,
  type ClockJump,
  holds,
  jumpBehind,
  jumpReason,
  NO_CLOCK_EVIDENCE,
} from "./clock-jumps.ts";
import { deletionOrder, type ManagedPoint } from "./groups.ts";
import { type Retention, retentionReasons } from "./retention.ts";

/** What `--run` or `--snapshot` names: a run id, backup id or `<unit>@<backup_id>`; or one snapshot id. */
export interface PointSelector {
  run?: string;
  snapshot?: string;
  /**
   * Whose points: this host's unless `--host` names another (a host gone for good). Another host's
   * point may be one its own run is writing, without this host's lock, and its ledger will see them gone.
   */
  host: string;
}

/**
 * The points a selector names, whole: a run id names every unit's point of that run; a snapshot id
 * names the point it belongs to (a point is deleted, pinned or kept whole, never a part of it).
 */
export function selectManaged(points: readonly ManagedPoint[], sel: PointSelector): ManagedPoint[] {
  if (Boolean(sel.run) === Boolean(sel.snapshot))
    throw new UsageError(
      "name exactly one of --run ID or --snapshot ID",
      "`kopi-docka snapshots` lists them",
    );
  const run = sel.run;
  const named = run
    ? points.filter((p) => [p.runId, p.backupId, p.key].includes(run))
    : points.filter((p) => p.snapshots.some((s) => s.id === sel.snapshot));
  const found = named.filter((p) => p.host === sel.host);
  if (found.length === 0) {
    const what = sel.run ? `run ${sel.run}` : `snapshot ${sel.snapshot}`;
    const elsewhere = [...new Set(named.map((p) => p.host))];
    throw new AppError("not_found", `no kopi-docka restore point of host ${sel.host} has ${what}`, {
      hint: elsewhere.length
        ? `it is host ${elsewhere.join(", ")}'s: pass --host ${elsewhere[0]} to act on it (only for a host gone for good: a host still running may be writing that point, and will report its snapshots deleted)`
        : sel.snapshot
          ? "`kopi-docka snapshots` lists restore points; a snapshot kopi-docka did not take is `kopi-docka kopia -- snapshot delete ID --delete`"
          : "`kopi-docka snapshots` lists restore points with their RUN and BACKUP ids",
    });
  }
  return found;
}

/** What a delete removes: whole points, recipes first; pinned points refuse the delete. */
export interface DeletePlan {
  points: ManagedPoint[];
  /** In deletion order. */
  snapshotIds: string[];
}

export function planDelete(points: readonly ManagedPoint[], sel: PointSelector): DeletePlan {
  const chosen = selectManaged(points, sel);
  const pinned = chosen.filter((p) => p.pins.length > 0);
  if (pinned.length > 0) {
    throw new UsageError(
      `pinned, not deleted: ${pinned.map((p) => `${p.key} (${p.pins.join(", ")})`).join("; ")}`,
      `unpin first: kopi-docka snapshots unpin --run ${pinned[0]?.runId}`,
    );
  }
  return { points: chosen, snapshotIds: chosen.flatMap(deletionOrder) };
}

/** What `expire` does now: restore points past retention go, whole. */
export interface ExpirePlan {
  remove: ManagedPoint[];
  /**
   * Points retention keeps, each with why: `latest-2`, `daily-1`, … (kopia's names) among all of the
   * unit's points, `complete-latest-2`, … among its complete ones.
   */
  kept: { key: string; reasons: string[] }[];
  /** Points a pin keeps: never removed, and they take no retention slot. */
  pinned: string[];
  /**
   * Units whose retention was not applied, and why: a point dated later than now says this host's clock
   * was (or is) wrong, and counting buckets from either time would expire real points.
   */
  skipped: { unit: string; reason: string }[];
  /**
   * Points retention would remove that are kept, and why: they are dated before a gap in this host's
   * runs that may be its clock set ahead (`clock-jumps.ts`), or up to a run its clock was set back
   * after (`clock-back.ts`); counted from a wrong date, they would be gone for good. Each is also in
   * `kept`, with the reason `clock-jump` or `clock-back`.
   */
  held: { unit: string; points: string[]; reason: string }[];
  snapshotIds: string[];
}

/** What `planExpire` judges besides the points: which units, at what time, knowing what of the clock. */
export interface ExpireScope {
  /** Only these units' points (a backup of some units expires only theirs). */
  units?: readonly string[];
  now?: Date;
  clock?: ClockEvidence;
}

/**
 * `[retention]` applied to whole restore points, never to a source on its own: kopia's per-source
 * retention splits points (a failed night's recipe takes a slot its data never took, and the recipe of
 * a good point expires while its data stays). Per unit, backups and undo points apart, a point stays
 * when retention keeps it among all of the unit's points or among its complete ones: failed runs never
 * push a complete point out, yet the latest runs stay, whatever they hold. Only `host`'s points, only
 * `units` when given (a backup of some units expires only theirs). The clock is judged twice: a point
 * dated later than now holds its unit whole (`skipped`); a point dated after a gap in this host's runs
 * that nothing shows to be time that passed (`clock-jumps.ts`) keeps every point before the gap
 * retention would remove (`held`), while the points after it expire among themselves; so does a run
 * of one boot dated before the run before it (`clock-back.ts`), for the points up to that run's date.
 * Pure.
 */
export function planExpire(
  points: readonly ManagedPoint[],
  host: string,
  retention: Retention,
  { units, now = new Date(), clock = NO_CLOCK_EVIDENCE }: ExpireScope = {},
): ExpirePlan {
  const plan: ExpirePlan = { remove: [], kept: [], pinned: [], skipped: [], held: [], snapshotIds: [] };
  const jumps = clockSteps(points, host, clock, now);
  // Per unit (its backups and its undo points count apart: one entry for both), the points held and
  // every step that holds one of them: `--trust-clock` accepts them all, so the admin reads each.
  const held = new Map<string, { points: string[]; steps: Set<ClockJump> }>();
  const series = new Map<string, ManagedPoint[]>();
  for (const p of points.filter((x) => x.host === host && (!units || units.includes(x.unit)))) {
    if (p.pins.length > 0) {
      plan.pinned.push(p.key);
      continue;
    }
    const key = `${p.unit}\u0000${p.undo}`;
    series.set(key, [...(series.get(key) ?? []), p]);
  }
  for (const unit of series.values()) {
    const newestFirst = unit.sort((a, b) => b.timestamp.localeCompare(a.timestamp));
    const ahead = newestFirst.find((p) => Date.parse(p.timestamp) > now.getTime() + CLOCK_SLACK_MS);
    if (ahead) {
      if (!plan.skipped.some((s) => s.unit === ahead.unit))
        plan.skipped.push({
          unit: ahead.unit,
          reason: `point ${ahead.key} is dated ${ahead.timestamp}, later than now (${now.toISOString()}): this host's clock was or is wrong; fix it, check that point (delete it if its date is wrong), then expire again`,
        });
      for (const p of newestFirst) plan.kept.push({ key: p.key, reasons: ["clock"] });
      continue;
    }
    const reasons = new Map<ManagedPoint, string[]>(newestFirst.map((p) => [p, []]));
    const complete = newestFirst.filter((p) => p.complete);
    for (const [among, prefix] of [
      [newestFirst, ""],
      [complete, "complete-"],
    ] as const) {
      const why = retentionReasons(
        among.map((p) => p.timestamp),
        retention,
        now,
      );
      among.forEach((p, i) => {
        reasons.get(p)?.push(...(why[i] ?? []).map((r) => prefix + r));
      });
    }
    const newest = newestFirst[0]?.timestamp ?? "";
    const jump = jumpBehind(jumps, newest);
    const behind = jumps.filter((j) => Date.parse(j.to) <= Date.parse(newest));
    for (const [p, why] of reasons)
      if (why.length > 0) plan.kept.push({ key: p.key, reasons: why });
      else if (jump && holds(jump, p.timestamp)) {
        plan.kept.push({ key: p.key, reasons: [jump.back ? "clock-back" : "clock-jump"] });
        const entry = held.get(p.unit) ?? { points: [], steps: new Set<ClockJump>() };
        held.set(p.unit, entry);
        entry.points.push(p.key);
        for (const j of behind) if (holds(j, p.timestamp)) entry.steps.add(j);
      } else {
        plan.remove.push(p);
        plan.snapshotIds.push(...deletionOrder(p));
      }
  }
  for (const [unit, h] of held)
    plan.held.push({
      unit,
      points: h.points,
      reason: jumps
        .filter((j) => h.steps.has(j))
        .map(jumpReason)
        .join(". Also: "),
    });
  return plan;
}

/** What a backup's log, its record and `snapshots expire` say of points a possible clock jump keeps. */
export function heldLine(h: ExpirePlan["held"][number]): string {
  return `retention kept ${h.points.length} point(s) of ${h.unit} it would remove (${h.points.join(", ")}): ${h.reason}`;
}

/**
 * What the retention at the end of a backup of `units` would remove, that backup's own (complete)
 * points counted in as the newest: what `backup --dry-run` shows. Pure.
 */
export function planExpireAfterBackup(
  points: readonly ManagedPoint[],
  run: { host: string; runId: string; units: readonly { name: string; backupId: string }[]; now: Date },
  retention: Retention,
  clock: ClockEvidence = NO_CLOCK_EVIDENCE,
): ExpirePlan {
  const timestamp = run.now.toISOString();
  const coming = run.units.map(
    (u): ManagedPoint => ({
      key: `${u.name}@${u.backupId}`,
      unit: u.name,
      host: run.host,
      backupId: u.backupId,
      runId: run.runId,
      timestamp,
      undo: false,
      snapshots: [],
      pins: [],
      complete: true,
    }),
  );
  const names = run.units.map((u) => u.name);
  const plan = planExpire([...coming, ...points], run.host, retention, { units: names, now: run.now, clock });
  return { ...plan, kept: plan.kept.filter((k) => !coming.some((c) => c.key === k.key)) };
}

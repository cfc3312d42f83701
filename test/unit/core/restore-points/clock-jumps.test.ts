import { expect, test } from "bun:test";
import {
  type ClockEvidence,
  type ClockSample,
  clockJumps,
} from "../../../../src/core/restore-points/clock-jumps.ts";
import type { ManagedPoint } from "../../../../src/core/restore-points/groups.ts";
import { planExpire, planExpireAfterBackup } from "../../../../src/core/restore-points/plan.ts";

// The default [retention]: 10 latest, 7 daily, 4 weekly, 12 monthly, 3 annual.
const DEFAULT = { latest: 10, hourly: 0, daily: 7, weekly: 4, monthly: 12, annual: 3 };
const DAY = 86_400_000;
const point = (runId: string, at: Date, host = "h"): ManagedPoint => ({
  key: `u@${runId}`,
  unit: "u",
  host,
  backupId: runId,
  runId,
  timestamp: at.toISOString(),
  undo: false,
  snapshots: [
    { id: `s-${runId}`, type: "recipe", label: "recipe", sizeBytes: 1, incomplete: false, pins: [] },
  ],
  pins: [],
  complete: true,
});
type Runs = Map<string, { startedAt: string; clock?: ClockSample }>;

/**
 * Two years of nightly backups at 03:00 on one boot, retention applied each night with the clock
 * right: the points a host has, and a run record (with both clocks) for every night.
 */
function twoYears() {
  const last = new Date("2026-12-04T03:00:00Z");
  let points: ManagedPoint[] = [];
  const runs: Runs = new Map();
  for (let d = 730; d >= 0; d--) {
    const at = new Date(last.getTime() - d * DAY);
    const runId = `r${1000 - d}`;
    points.unshift(point(runId, at));
    runs.set(runId, { startedAt: at.toISOString(), clock: sample(at, "boot-1", (800 - d) * DAY) });
    const gone = new Set(planExpire(points, "h", DEFAULT, { now: at }).remove.map((p) => p.key));
    points = points.filter((p) => !gone.has(p.key));
  }
  return { points, runs, last, lastUp: 800 * DAY };
}
const sample = (at: Date, bootId: string, uptimeMs: number): ClockSample => ({
  at: at.toISOString(),
  bootId,
  uptimeMs,
});

/** The run after the history: its point at `at` (by its clock), its record with `clock`. */
function nextRun(h: ReturnType<typeof twoYears>, runId: string, at: Date, clock?: ClockSample) {
  const runs: Runs = new Map(h.runs);
  runs.set(runId, { startedAt: at.toISOString(), ...(clock ? { clock } : {}) });
  return { points: [point(runId, at), ...h.points], runs, now: at };
}
const expire = (r: { points: ManagedPoint[]; runs: Runs; now: Date }, more: Partial<ClockEvidence> = {}) =>
  planExpire(r.points, "h", DEFAULT, { now: r.now, clock: { runs: r.runs, trusted: new Set(), ...more } });

test("a backup under a clock set ahead keeps every real point (35 days, 400 days, 10 years ahead)", () => {
  const h = twoYears();
  expect(h.points.length).toBe(24);
  for (const [ahead, lost] of [
    [35, 5],
    [400, 14],
    [3650, 15],
  ] as const) {
    // A reboot in between (the RTC), so the uptime cannot tell: the date alone is the jump.
    const wrong = new Date(h.last.getTime() + DAY + ahead * DAY);
    const run = nextRun(h, "rX", wrong, sample(wrong, "boot-2", 60_000));
    // What retention did before: counted from the wrong date, real points gone for good.
    const before = expire(run, { trustAll: true });
    expect(before.remove.length).toBe(lost);
    const plan = expire(run);
    expect(plan.remove).toEqual([]);
    expect(plan.snapshotIds).toEqual([]);
    expect(plan.held).toEqual([
      { unit: "u", points: before.remove.map((p) => p.key), reason: expect.any(String) },
    ]);
    expect(plan.kept.filter((k) => k.reasons.includes("clock-jump")).length).toBe(lost);
  }
});

test("the warning says what happened, what is kept and what to do, either way", () => {
  const h = twoYears();
  const wrong = new Date(h.last.getTime() + 36 * DAY);
  const plan = expire(nextRun(h, "rX", wrong, sample(wrong, "boot-2", 60_000)));
  expect(plan.held[0]?.reason).toBe(
    "this host's restore points jump from 2026-12-04T03:00:00.000Z to 2027-01-09T03:00:00.000Z (36d 0h): " +
      "the clock was or is set ahead, or the host made no backup in between. Counted from the later date, " +
      "retention would remove points the real date keeps. If the clock is or was wrong: set it right, then " +
      "delete the points dated from 2027-01-09T03:00:00.000Z on (`kopi-docka snapshots delete --run rX`, and each later run's). " +
      "If it was right (the host was off, or its backups did not run): `kopi-docka snapshots expire --trust-clock`, once (it takes every step of this host's dates as it is, a clock set back too)",
  );
});

test("one boot, the clock jumped: the uptime says so; the next nights under that clock keep the points too", () => {
  const h = twoYears();
  const wrong = new Date(h.last.getTime() + 36 * DAY);
  const first = nextRun(h, "rX", wrong, sample(wrong, "boot-1", h.lastUp + DAY));
  const plan = expire(first);
  expect(plan.remove).toEqual([]);
  expect(plan.held[0]?.reason).toContain(
    "(36d 0h): the host was up only 24h 0m in between: its clock was set forward (ahead now, or right after running behind)",
  );
  // The next night, the clock still ahead: a day after the last point, yet the jump behind it holds.
  let later = first;
  for (let n = 1; n <= 20; n++) {
    const at = new Date(wrong.getTime() + n * DAY);
    later = { ...nextRun({ ...h, points: later.points, runs: later.runs }, `rY${n}`, at), now: at };
    const night = expire(later);
    expect(night.held.map((x) => x.reason.includes("--run rX"))).toEqual([true]);
    expect(night.remove.every((p) => p.timestamp >= wrong.toISOString())).toBe(true);
    later = { ...later, points: later.points.filter((p) => !night.remove.includes(p)) };
  }
  // The points after the jump expire among themselves: the latest 10 of them, and their buckets.
  expect(later.points.filter((p) => p.timestamp >= wrong.toISOString()).length).toBeLessThan(21);
  expect(later.points.filter((p) => p.timestamp < wrong.toISOString())).toEqual(h.points);
});

test("a host that was off for a month (a reboot, one host): cannot be told apart; kept until the admin trusts the gap", () => {
  const h = twoYears();
  const back = new Date(h.last.getTime() + 31 * DAY);
  const run = nextRun(h, "rB", back, sample(back, "boot-2", 60_000));
  const plan = expire(run);
  expect(plan.remove).toEqual([]);
  expect(plan.held[0]?.reason).toContain("`kopi-docka snapshots expire --trust-clock`, once");
  // `--trust-clock` recorded the gap: from then on, the same plan as with the clock never doubted.
  const trusted = expire(run, { trusted: new Set(["rB"]) });
  expect(trusted.held).toEqual([]);
  expect(trusted.remove.length).toBeGreaterThan(0);
  expect(trusted.remove).toEqual(expire(run, { trustAll: true }).remove);
});

test("a month without backups on one boot (a timer stopped): the uptime covers the gap, retention runs", () => {
  const h = twoYears();
  const back = new Date(h.last.getTime() + 31 * DAY);
  const plan = expire(nextRun(h, "rB", back, sample(back, "boot-1", h.lastUp + 31 * DAY + 5_000)));
  expect(plan.held).toEqual([]);
  expect(plan.remove.length).toBeGreaterThan(0);
});

test("another host's point dated within a day of the run after the gap vouches for its date", () => {
  const h = twoYears();
  const back = new Date(h.last.getTime() + 31 * DAY);
  const run = nextRun(h, "rB", back, sample(back, "boot-2", 60_000));
  const other = point("o1", new Date(back.getTime() - 5 * 3_600_000), "other");
  expect(expire({ ...run, points: [...run.points, other] }).held).toEqual([]);
  // One dated a week before says nothing of this date.
  const old = point("o2", new Date(back.getTime() - 7 * DAY), "other");
  expect(expire({ ...run, points: [...run.points, old] }).held.length).toBe(1);
});

test("a gap is a jump past a week and past twice the host's own recent gaps and a day; a failed run's record fills one", () => {
  const at = (d: number) => new Date(Date.parse("2026-06-01T03:00:00Z") + d * DAY);
  const nightly = [0, 1, 2, 3].map((d) => point(`n${d}`, at(d)));
  const none: ClockEvidence = { runs: new Map(), trusted: new Set() };
  const jumps = (ps: ManagedPoint[], ev = none) => clockJumps(ps, "h", ev, at(100)).map((j) => j.runId);
  expect(jumps([point("a", at(9.9)), ...nightly])).toEqual([]); // 6.9 days
  expect(jumps([point("a", at(10.1)), ...nightly])).toEqual(["a"]);
  const weekly = [0, 7, 14, 21].map((d) => point(`w${d}`, at(d)));
  expect(jumps([point("a", at(31)), ...weekly])).toEqual([]); // 10 days, a weekly host
  // One missed weekly run, its timer 20 hours late: 14.8 days is no jump; 16 days is.
  expect(jumps([point("a", at(35.8)), ...weekly])).toEqual([]);
  expect(jumps([point("a", at(37)), ...weekly])).toEqual(["a"]);
  // Runs that failed every night in between (a repository down) left records, no points: no gap.
  const failed = new Map([10, 20, 30].map((d) => [`f${d}`, { startedAt: at(d).toISOString() }]));
  expect(jumps([point("a", at(37)), ...weekly], { ...none, runs: failed })).toEqual([]);
});

test("backup --dry-run's retention holds the same points as the run would", () => {
  const h = twoYears();
  const wrong = new Date(h.last.getTime() + 36 * DAY);
  const runs: Runs = new Map(h.runs);
  runs.set("rX", { startedAt: wrong.toISOString(), clock: sample(wrong, "boot-2", 60_000) });
  const run = { host: "h", runId: "rX", units: [{ name: "u", backupId: "bX" }], now: wrong };
  const plan = planExpireAfterBackup(h.points, run, DEFAULT, { runs, trusted: new Set() });
  expect(plan.remove).toEqual([]);
  expect(plan.held[0]?.points.length).toBe(5);
});

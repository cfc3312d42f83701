import { expect, test } from "bun:test";
import { clockSetBack } from "../../../../src/core/restore-points/clock-back.ts";
import type { ClockEvidence, RunClock } from "../../../../src/core/restore-points/clock-jumps.ts";
import type { ManagedPoint } from "../../../../src/core/restore-points/groups.ts";
import { planExpire } from "../../../../src/core/restore-points/plan.ts";
import { DAY, DEFAULT, keys, LAST, point, real } from "./clock-fixtures.ts";

const MINUTE = 60_000;

interface Host {
  points: ManagedPoint[];
  runs: Map<string, RunClock>;
  /** Whether the runs are numbered (`RunRecord.sequence`): false, the records of an older version. */
  numbered: boolean;
}

/**
 * One run on its own boot (the host is powered off after each, as a NAS on a timer is): its point
 * dated `wall` (the host's clock then), its record with both clocks and its number, then the retention
 * at its end, at `wall`.
 */
function night(h: Host, runId: string, wall: number, more: Partial<ClockEvidence> = {}) {
  const at = new Date(wall).toISOString();
  const sequence = h.runs.size + 1;
  const clock = { at, bootId: `boot-${runId}`, uptimeMs: 90_000 };
  h.runs.set(runId, { startedAt: at, clock, ...(h.numbered ? { sequence } : {}) });
  h.points.unshift(point(runId, wall));
  const plan = planExpire(h.points, "h", DEFAULT, {
    now: new Date(wall),
    clock: { runs: h.runs, trusted: new Set(), ...more },
  });
  h.points = h.points.filter((p) => !plan.remove.includes(p));
  return plan;
}

/** A year of nightly runs at 03:00, each on a boot of its own, the clock right, retention each night. */
function history(numbered = true): Host {
  const h: Host = { points: [], runs: new Map(), numbered };
  for (let d = 365; d >= 0; d--) night(h, d ? `r-${d}` : "r0", LAST - d * DAY);
  return h;
}

test("a dead RTC battery: the night after a reboot is dated 30 days back; its point and those up to the run before are kept", () => {
  const h = history();
  // The host boots with its clock 30 days behind and no NTP yet: night 1 is dated among November's.
  night(h, "rB", real(1) - 30 * DAY);
  // Night 2, after the next boot, the clock right. Without the runs' numbers nothing orders rB after
  // r0 but the wall clock: rB took no slot and was expired right here, r-9 too.
  const right = night(h, "rC", real(2));
  expect(keys(right)).toEqual([]);
  expect(right.held).toEqual([{ unit: "u", points: ["u@r-9", "u@rB"], reason: expect.any(String) }]);
  expect(right.kept).toContainEqual({ key: "u@rB", reasons: ["clock-back"] });
  expect(right.held[0]?.reason).toBe(
    "this host's run rB is dated 2026-11-05T03:00:00.000Z, 29d 0h before the run numbered before it, across a reboot (2026-12-04T03:00:00.000Z): " +
      "its clock was set back or behind from the boot on (a dead RTC battery), or ahead before. Points dated by a clock behind share days, weeks and months " +
      "with real points of those dates; counted by these dates, retention would remove points their real dates keep (those of the nights under that clock first). " +
      "Set the clock right, pin the points to keep for good (`kopi-docka snapshots pin --run rB`, the later runs under that clock too), " +
      "then `kopi-docka snapshots expire --trust-clock`, once: retention then counts by the dates as they are (every step of this host's dates, a gap ahead too)",
  );
});

test("the same night in records without numbers (an older version's): judged as before, nothing held", () => {
  const h = history(false);
  night(h, "rB", real(1) - 30 * DAY);
  const right = night(h, "rC", real(2));
  expect(right.held).toEqual([]);
  expect(keys(right)).toEqual(["u@r-9", "u@rB"]);
  // The first numbered run after the upgrade has no numbered run before it: nothing to compare.
  const upgraded = history(false);
  upgraded.numbered = true;
  night(upgraded, "rB", real(1) - 30 * DAY);
  expect(night(upgraded, "rC", real(2)).held).toEqual([]);
});

test("`--trust-clock` takes the step as it is: retention counts by the dates again", () => {
  const h = history();
  night(h, "rB", real(1) - 30 * DAY);
  const trusted = night(h, "rC", real(2), { trusted: new Set(["rB"]) });
  expect(trusted.held).toEqual([]);
  expect(keys(trusted)).toEqual(["u@r-9", "u@rB"]);
  const all = history();
  night(all, "rB", real(1) - 30 * DAY);
  expect(keys(night(all, "rC", real(2), { trustAll: true }))).toEqual(["u@r-9", "u@rB"]);
});

test("nightly runs across reboots with the clock right, a run by hand and small clock errors: nothing is held", () => {
  const [h, unjudged] = [history(), history()];
  // Night 2 with a clock 10 minutes fast, then a run by hand after a reboot 20 minutes later whose
  // clock is 50 minutes behind (dated 30 minutes before the run numbered before it: within the slack).
  const runs: [string, number][] = [
    ["n1", real(1)],
    ["n2", real(2) + 10 * MINUTE],
    ["n2b", real(2) + 20 * MINUTE - 50 * MINUTE],
  ];
  for (let n = 3; n <= 40; n++) runs.push([`n${n}`, real(n)]);
  const plans = runs.map(([id, wall]) => night(h, id, wall));
  for (const [id, wall] of runs) night(unjudged, id, wall, { trustAll: true });
  expect(plans.flatMap((p) => p.held)).toEqual([]);
  expect(h.points.map((p) => p.key)).toEqual(unjudged.points.map((p) => p.key));
});

test("a clock left behind across many boots: one step, the points up to it stay, the later ones expire among themselves", () => {
  const h = history();
  const plans = [];
  for (let n = 1; n <= 80; n++) plans.push(night(h, n === 1 ? "rB" : `rB${n}`, real(n) - 30 * DAY));
  for (const p of plans.slice(29)) {
    expect(p.held.map((x) => x.reason.includes("--run rB`"))).toEqual([true]);
    expect(p.remove.every((x) => x.timestamp > new Date(LAST).toISOString())).toBe(true);
  }
  const after = h.points.filter((p) => Date.parse(p.timestamp) > LAST);
  expect(h.points.length - after.length).toBe(history().points.length + 30);
});

test("two series of numbers in one state dir (an old one copied over a new host's): no step, nothing held for good", () => {
  const runs = new Map<string, RunClock>();
  const at = (t: number, bootId: string) => ({ at: new Date(t).toISOString(), bootId, uptimeMs: 90_000 });
  // The new host's first run, numbered 1, today; then the old host's records 1..3 of two years ago.
  runs.set("new1", { startedAt: new Date(LAST).toISOString(), clock: at(LAST, "b-new"), sequence: 1 });
  for (const n of [1, 2, 3]) {
    const t = LAST - 730 * DAY + n * DAY;
    runs.set(`old${n}`, { startedAt: new Date(t).toISOString(), clock: at(t, `b-old${n}`), sequence: n });
  }
  // Before: run old2 "dated two years before" new1, numbered 1 too, held every point from then on.
  expect(clockSetBack({ runs, trusted: new Set() }, new Date(LAST))).toEqual([]);
});

test("a run dated ahead of now, its points deleted since: the step from it holds nothing", () => {
  const runs = new Map<string, RunClock>();
  const ahead = LAST + 365 * DAY;
  const clock = (t: number, uptimeMs: number) => ({ at: new Date(t).toISOString(), bootId: "b", uptimeMs });
  runs.set("rA", { startedAt: new Date(ahead).toISOString(), clock: clock(ahead, 1_000) });
  runs.set("rB", { startedAt: new Date(LAST).toISOString(), clock: clock(LAST, 2 * DAY) });
  // Before: a step back from a year ahead, holding every point dated up to then, for good.
  expect(clockSetBack({ runs, trusted: new Set() }, new Date(LAST + DAY))).toEqual([]);
});

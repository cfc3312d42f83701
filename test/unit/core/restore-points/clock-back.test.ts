import { expect, test } from "bun:test";
import type { ClockEvidence, ClockSample } from "../../../../src/core/restore-points/clock-jumps.ts";
import type { ManagedPoint } from "../../../../src/core/restore-points/groups.ts";
import { planExpire } from "../../../../src/core/restore-points/plan.ts";
import { DAY, DEFAULT, keys, LAST, point, real } from "./clock-fixtures.ts";

const HOUR = 3_600_000;
const LAST_UP = 800 * DAY;

type Runs = Map<string, { startedAt: string; clock?: ClockSample }>;
interface Host {
  points: ManagedPoint[];
  runs: Runs;
}

/**
 * One run: its point dated `wall` (the host's clock then), its record with both clocks (`up`: the
 * uptime, one boot unless `bootId` says), then the retention at its end, at `wall`.
 */
function night(
  h: Host,
  runId: string,
  wall: number,
  up: number,
  more: Partial<ClockEvidence> = {},
  bootId = "boot-1",
) {
  const at = new Date(wall).toISOString();
  h.runs.set(runId, { startedAt: at, clock: { at, bootId, uptimeMs: up } });
  h.points.unshift(point(runId, wall));
  const plan = planExpire(h.points, "h", DEFAULT, {
    now: new Date(wall),
    clock: { runs: h.runs, trusted: new Set(), ...more },
  });
  h.points = h.points.filter((p) => !plan.remove.includes(p));
  return plan;
}

/** A year of nightly runs at 03:00 on one boot, the clock right, retention applied each night. */
function history(): Host {
  const h: Host = { points: [], runs: new Map() };
  for (let d = 365; d >= 0; d--) night(h, d ? `r-${d}` : "r0", LAST - d * DAY, LAST_UP - d * DAY);
  return h;
}

const up = (n: number) => LAST_UP + n * DAY;

test("a night under a clock set back 30 days, then set right: that night's point is kept, not expired the next night", () => {
  const h = history();
  // Night 1 runs under a clock 30 days behind: its point is dated among real points of November.
  const behind = night(h, "rB", real(1) - 30 * DAY, up(1));
  expect(behind.skipped.map((s) => s.unit)).toEqual(["u"]); // real points dated later than now: held whole
  // Night 2, the clock right again. Dated by its real night, rB would be the second latest point
  // (`latest-2`, `daily-2`); dated 2026-11-05, it takes no slot, and was expired right here.
  const right = night(h, "rC", real(2), up(2));
  expect(keys(right)).toEqual([]);
  // Every point dated up to the run before the step is kept: r-9 too, which its date alone expires.
  expect(right.held).toEqual([{ unit: "u", points: ["u@r-9", "u@rB"], reason: expect.any(String) }]);
  expect(right.kept).toContainEqual({ key: "u@rB", reasons: ["clock-back"] });
  const dated = { ...h, points: h.points.map((p) => (p.runId === "rB" ? point("rB", real(1)) : p)) };
  const trueDates = planExpire(dated.points, "h", DEFAULT, { now: new Date(real(2)) });
  expect(trueDates.kept).toContainEqual({
    key: "u@rB",
    reasons: ["latest-2", "daily-2", "complete-latest-2", "complete-daily-2"],
  });
});

test("a point dated back into a month's last day takes its slot: the real month-end point stays, as with true dates", () => {
  const h = history();
  // 2026-12-05 03:00 under a clock 4 days 23 hours behind: dated 2026-11-30 04:00, an hour after
  // the real point of that night, so it is November's newest: its monthly slot, a year's keep.
  night(h, "rB", real(1) - 4 * DAY - 23 * HOUR, up(1));
  for (let n = 2; n <= 40; n++) night(h, `rC${n}`, real(n), up(n));
  const monthEnd = "u@r-4"; // 2026-11-30 03:00, the real last night of November
  expect(h.points.map((p) => p.key)).toContain(monthEnd);
  expect(h.points.map((p) => p.key)).toContain("u@rB");

  // With rB dated by its real night, retention keeps the month-end point as November's.
  const trueDates = history();
  for (let n = 1; n <= 40; n++) night(trueDates, `rC${n}`, real(n), up(n));
  expect(trueDates.points.map((p) => p.key)).toContain(monthEnd);
});

test("the warning says what happened and what to do; `--trust-clock` lets retention count by the dates", () => {
  const h = history();
  night(h, "rB", real(1) - 30 * DAY, up(1));
  const kept = { points: [...h.points], runs: new Map(h.runs) };
  const plan = night(h, "rC", real(2), up(2));
  expect(plan.held[0]?.reason).toBe(
    "this host's run rB is dated 2026-11-05T03:00:00.000Z, 29d 0h before the run that ran 24h 0m before it on the same boot (2026-12-04T03:00:00.000Z): " +
      "its clock was set back (behind then, or ahead before). Points dated by a clock behind share days, weeks and months with real points " +
      "of those dates; counted by these dates, retention would remove points their real dates keep (those of the nights under that clock first). " +
      "Set the clock right, pin the points to keep for good (`kopi-docka snapshots pin --run rB`, the later runs under that clock too), " +
      "then `kopi-docka snapshots expire --trust-clock`, once: retention then counts by the dates as they are (every step of this host's dates, a gap ahead too)",
  );
  const trusted = night(kept, "rC", real(2), up(2), { trusted: new Set(["rB"]) });
  expect(trusted.held).toEqual([]);
  expect(keys(trusted)).toEqual(["u@r-9", "u@rB"]);
});

test("nightly runs with the clock right, a reboot and small NTP steps among them: nothing is held", () => {
  const [h, unjudged] = [history(), history()];
  // A reboot (uptime from 0), a clock 10 minutes fast set right, a second run 20 hours later by hand.
  const runs: [string, number, number][] = [
    ["n1", real(1), 60_000],
    ["n2", real(2) + 10 * 60_000, 60_000 + DAY],
    ["n3", real(3), 60_000 + 2 * DAY],
    ["n4", real(3) + 20 * HOUR, 60_000 + 2 * DAY + 20 * HOUR],
  ];
  for (let n = 5; n <= 40; n++) runs.push([`n${n}`, real(n), 60_000 + (n - 1) * DAY]);
  const plans = runs.map(([id, wall, uptime]) => night(h, id, wall, uptime, {}, "boot-2"));
  for (const [id, wall, uptime] of runs) night(unjudged, id, wall, uptime, { trustAll: true }, "boot-2");
  expect(plans.flatMap((p) => p.held)).toEqual([]);
  expect(plans.flatMap((p) => p.skipped)).toEqual([]);
  // The same points as retention with the clock never doubted.
  expect(h.points.map((p) => p.key)).toEqual(unjudged.points.map((p) => p.key));
});

test("a clock set back and never set right: held whole while real points are later, then the points up to the step stay and the later ones expire among themselves", () => {
  const h = history();
  const plans = [];
  for (let n = 1; n <= 80; n++) plans.push(night(h, n === 1 ? "rB" : `rB${n}`, real(n) - 30 * DAY, up(n)));
  // Nights 1–29 are dated before r0, the last real point: its unit is not expired at all.
  expect(plans.slice(0, 29).every((p) => p.skipped.length === 1 && p.remove.length === 0)).toBe(true);
  // From then on, retention runs for the points dated after r0 and holds those up to it.
  for (const p of plans.slice(29)) {
    expect(p.held.map((x) => x.reason.includes("--run rB`"))).toEqual([true]);
    expect(p.remove.every((x) => x.timestamp > new Date(LAST).toISOString())).toBe(true);
  }
  const after = h.points.filter((p) => Date.parse(p.timestamp) > LAST);
  expect(after.length).toBeGreaterThan(10);
  expect(after.length).toBeLessThan(50); // 50 nights dated after r0, expired among themselves
  // Nothing dated up to r0 went: the year's points and the 30 nights under the clock behind.
  expect(h.points.length - after.length).toBe(history().points.length + 30);
});

test("a clock set back, then a gap ahead: the points held are said with both steps, since `--trust-clock` accepts both", () => {
  const h = history();
  night(h, "rB", real(1) - 4 * DAY - 23 * HOUR, up(1));
  for (let n = 2; n <= 10; n++) night(h, `rC${n}`, real(n), up(n));
  // Off for 40 days, then a reboot: a gap nothing explains.
  const after = night(h, "rG", real(50), 60_000, {}, "boot-2");
  expect(after.held).toHaveLength(1);
  const reason = after.held[0]?.reason ?? "";
  // Before, only the gap was named: trusting it took the set-back step as it is too, unseen.
  expect(reason).toContain("this host's restore points jump from");
  expect(reason).toContain("this host's run rB is dated");
});

import { formatDuration } from "../format.ts";
import type { ManagedPoint } from "./groups.ts";

/**
 * The host's two clocks at one moment: the wall clock, which anything may set (NTP, an admin, a VM
 * put back from a snapshot, a dead RTC battery), and the kernel's time since boot (`/proc/uptime`,
 * CLOCK_BOOTTIME: never set, suspend included). Two samples of one boot tell how much time passed.
 */
export interface ClockSample {
  at: string;
  bootId: string;
  uptimeMs: number;
}

/** One run as retention judges the clock by it. */
export interface RunClock {
  startedAt: string;
  clock?: ClockSample;
  sequence?: number;
}

/** What retention may know of this host's clock besides the points' own dates. */
export interface ClockEvidence {
  /**
   * This host's backup runs by id (its run records, and the run under way), with the clocks then and
   * the run's number (`RunRecord.sequence`: their order, whatever the wall clock said).
   */
  runs: ReadonlyMap<string, RunClock>;
  /**
   * Runs the gap before which the admin said was time that passed, or whose clock set back to count
   * by its dates (`snapshots expire --trust-clock`).
   */
  trusted: ReadonlySet<string>;
  /** `--trust-clock` now: every gap is time that passed. */
  trustAll?: boolean;
}

export const NO_CLOCK_EVIDENCE: ClockEvidence = { runs: new Map(), trusted: new Set() };

/** A gap in this host's runs that nothing shows to be time that passed. */
export interface ClockJump {
  /** The first run after the gap. */
  runId: string;
  from: string;
  to: string;
  /** Both runs' records are of one boot: how long the host was up between them (less than the gap). */
  upMs?: number;
  /**
   * The clock was set back (`clock-back.ts`): `to`, the run's date, is before `from`, the date of the
   * run that ran before it (of its boot by the uptime, `upMs` then; across a reboot by the runs' numbers).
   */
  back?: true;
}

/** How far ahead of the clock a point may be dated before the clock is not trusted. */
export const CLOCK_SLACK_MS = 60 * 60_000;

const DAY_MS = 86_400_000;
/**
 * A gap of up to a week is never a jump: a few missed nights (a repository down over a long weekend)
 * need no one's word, and a clock that far ahead can only expire a point a week early.
 */
const MIN_JUMP_MS = 7 * DAY_MS;
/**
 * Nor is one up to twice the longest of the host's last few gaps and a day: a weekly timer's one missed
 * run, however late its timer fired (a randomized delay, a persistent timer run at the next boot).
 */
const CADENCE_GAPS = 3;
const CADENCE_FACTOR = 2;
const CADENCE_SLACK_MS = DAY_MS;
/** How much further the wall clock may move than the uptime between two runs of one boot (NTP slews). */
export const UPTIME_SLACK_MS = 60 * 60_000;
/** How near another host's point must be dated to the run after a gap to vouch for that date. */
const OTHER_HOST_MS = DAY_MS;

/**
 * The gaps in `host`'s runs (its points' runs and its run records, by their dates) that may be a
 * clock set ahead, oldest first. Retention counts every bucket back from a unit's newest point, so a
 * point dated by a clock set ahead expires real points for good (35 days ahead, 5 of two years'
 * nightly points under the default retention; 10 years, 15), and at that run nothing looks wrong:
 * now and the point agree. A host off for a month makes the same gap with a clock that is right.
 * What else could tell them apart, and what is used:
 * - the host's uptime between two runs of one boot (their records' `clock`): independent of the wall
 *   clock, so a gap the uptime covers is time that passed (a timer stopped for a month), and one it
 *   does not is a clock that jumped. Used. A host that was off has no such pair: it cannot tell;
 * - another host's point in the same repository dated within a day of the run after the gap: another
 *   clock agrees with this one then. Used (a fleet fed by one wrong NTP server would fool it);
 * - the boot time (/proc/stat btime is now minus uptime) and file mtimes are written by the same
 *   wall clock; kopia's manifests carry our clock's times too, and the storage's own blob times
 *   (a server's clock, except for a filesystem repository) come only from listing every blob. Not used;
 * - the admin's word: `snapshots expire --trust-clock` records the gaps it saw as time that passed.
 * A gap none of these explains is a jump; `planExpire` keeps every point dated before it that
 * retention would remove, until the admin says which it was. Points and runs dated later than now
 * (`CLOCK_SLACK_MS`) are left out: the "ahead of now" guard holds their units whole. Pure.
 */
export function clockJumps(
  points: readonly ManagedPoint[],
  host: string,
  evidence: ClockEvidence,
  now: Date,
): ClockJump[] {
  const times = new Map<string, number>();
  const note = (runId: string, iso: string) => {
    const t = Date.parse(iso);
    if (Number.isFinite(t) && t <= now.getTime() + CLOCK_SLACK_MS)
      times.set(runId, Math.min(times.get(runId) ?? t, t));
  };
  for (const p of points) if (p.host === host) note(p.runId, p.timestamp);
  for (const [runId, r] of evidence.runs) note(runId, r.startedAt);
  const runs = [...times].sort((a, b) => a[1] - b[1]);
  const others = points.filter((p) => p.host !== host).map((p) => Date.parse(p.timestamp));
  const jumps: ClockJump[] = [];
  for (let i = 1; i < runs.length; i++) {
    const [runId, t] = runs[i] as [string, number];
    const [prevId, prev] = runs[i - 1] as [string, number];
    let cadence = 0;
    for (let j = Math.max(1, i - CADENCE_GAPS); j < i; j++)
      cadence = Math.max(cadence, (runs[j]?.[1] ?? 0) - (runs[j - 1]?.[1] ?? 0));
    if (t - prev <= Math.max(MIN_JUMP_MS, CADENCE_FACTOR * cadence + CADENCE_SLACK_MS)) continue;
    if (evidence.trustAll || evidence.trusted.has(runId)) continue;
    const upMs = uptimeBetween(evidence.runs.get(prevId)?.clock, evidence.runs.get(runId)?.clock);
    if (upMs?.passed) continue;
    if (others.some((o) => Math.abs(o - t) <= OTHER_HOST_MS)) continue;
    jumps.push({
      runId,
      from: new Date(prev).toISOString(),
      to: new Date(t).toISOString(),
      ...(upMs ? { upMs: upMs.ms } : {}),
    });
  }
  return jumps;
}

/** The uptime between two samples of one boot, and whether the wall clock moved no further. */
function uptimeBetween(a?: ClockSample, b?: ClockSample): { ms: number; passed: boolean } | undefined {
  if (!a || !b || a.bootId !== b.bootId) return undefined;
  const ms = b.uptimeMs - a.uptimeMs;
  const wall = Date.parse(b.at) - Date.parse(a.at);
  if (!Number.isFinite(wall) || ms < 0) return undefined;
  return { ms, passed: wall - ms <= UPTIME_SLACK_MS };
}

/**
 * The jump a unit's retention counts across (one at or before `newest`, its newest point) that keeps
 * the most: a jump ahead keeps the points dated before it, a clock set back those dated up to the run
 * before it (`holds`).
 */
export function jumpBehind(jumps: readonly ClockJump[], newest: string): ClockJump | undefined {
  const bound = (j: ClockJump) => Date.parse(j.back ? j.from : j.to);
  return jumps
    .filter((j) => Date.parse(j.to) <= Date.parse(newest))
    .reduce<ClockJump | undefined>((a, j) => (a && bound(a) >= bound(j) ? a : j), undefined);
}

/** Whether `j` keeps a point dated `timestamp` that retention would remove. */
export function holds(j: ClockJump, timestamp: string): boolean {
  const t = Date.parse(timestamp);
  return j.back ? t <= Date.parse(j.from) : t < Date.parse(j.to);
}

/** Why retention keeps the points before `j`, and what the admin does about it. */
export function jumpReason(j: ClockJump): string {
  if (j.back) return backReason(j);
  const gap = formatDuration(Date.parse(j.to) - Date.parse(j.from));
  const cause =
    j.upMs === undefined
      ? "the clock was or is set ahead, or the host made no backup in between"
      : `the host was up only ${formatDuration(j.upMs)} in between: its clock was set forward (ahead now, or right after running behind)`;
  return (
    `this host's restore points jump from ${j.from} to ${j.to} (${gap}): ${cause}. Counted from the later date, ` +
    "retention would remove points the real date keeps. If the clock is or was wrong: set it right, then " +
    `delete the points dated from ${j.to} on (\`kopi-docka snapshots delete --run ${j.runId}\`, and each later run's). ` +
    "If it was right (the host was off, or its backups did not run): `kopi-docka snapshots expire --trust-clock`, once " +
    "(it takes every step of this host's dates as it is, a clock set back too)"
  );
}

/** Why retention keeps the points up to a clock set back, and what the admin does about it. */
function backReason(j: ClockJump): string {
  const back = formatDuration(Date.parse(j.from) - Date.parse(j.to));
  const before =
    j.upMs === undefined
      ? `the run numbered before it, across a reboot (${j.from}): its clock was set back or behind from the boot on (a dead RTC battery), or ahead before`
      : `the run that ran ${formatDuration(j.upMs)} before it on the same boot (${j.from}): its clock was set back (behind then, or ahead before)`;
  return (
    `this host's run ${j.runId} is dated ${j.to}, ${back} before ${before}. ` +
    "Points dated by a clock behind share days, weeks and months with " +
    "real points of those dates; counted by these dates, retention would remove points their real dates keep (those of the nights under that clock first). " +
    `Set the clock right, pin the points to keep for good (\`kopi-docka snapshots pin --run ${j.runId}\`, the later runs under that clock too), ` +
    "then `kopi-docka snapshots expire --trust-clock`, once: retention then counts by the dates as they are " +
    "(every step of this host's dates, a gap ahead too)"
  );
}

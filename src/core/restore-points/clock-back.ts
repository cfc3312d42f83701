import {
  CLOCK_SLACK_MS,
  type ClockEvidence,
  type ClockJump,
  type ClockSample,
  clockJumps,
  UPTIME_SLACK_MS,
} from "./clock-jumps.ts";
import type { ManagedPoint } from "./groups.ts";

interface SampledRun {
  runId: string;
  startedAt: string;
  clock: ClockSample;
}

/**
 * The runs of this host dated before the run that ran before them: the clock was set back (a wrong NTP
 * server, an admin), or was behind from the boot on (a dead RTC battery, no NTP at boot). A VM put back
 * from a snapshot is not seen: its uptime, boot id and run number go back with it. The run's points,
 * and those of the runs after it under that clock, are dated among real points of those dates.
 * Retention counts by the dates, so such a point takes no slot of its real night (it was expired at the
 * first run after the clock was set right, or sooner than its date keeps it), or takes the day's,
 * week's or month's slot of a real point older in the same bucket, which is then expired months early
 * (a night set back to the last of a month). `planExpire` keeps every point dated up to the run before
 * the step that retention would remove, until the admin says.
 *
 * Which ran first: within one boot, the uptime (CLOCK_BOOTTIME, never set), and the wall clock went
 * back further than an NTP slew between them; across a reboot, the runs' numbers (`RunRecord.sequence`,
 * counted at each start), and the run dated more than that slack before the one numbered before it.
 * Records without both say nothing (older ones): their step is seen only where its dates fall before
 * all of the host's points (a gap, `clockJumps`). A clock set back once and never set right: the step
 * stays, and the points after the last real run's date expire among themselves. A step from a run dated
 * past `now` is left out: that clock ran ahead, and the "later than now" guard holds its unit while its
 * points stay (its record outlives them). Pure.
 */
export function clockSetBack(evidence: ClockEvidence, now: Date): ClockJump[] {
  const ahead = now.getTime() + CLOCK_SLACK_MS;
  const steps = [...withinBoots(evidence), ...acrossBoots(evidence)].filter(
    (s) => !evidence.trustAll && !evidence.trusted.has(s.runId) && !(Date.parse(s.from) > ahead),
  );
  return steps.sort((a, b) => Date.parse(a.to) - Date.parse(b.to));
}

/** Every step of `host`'s dates retention may count across: gaps ahead (`clockJumps`), clocks set back. */
export function clockSteps(
  points: readonly ManagedPoint[],
  host: string,
  evidence: ClockEvidence,
  now: Date,
): ClockJump[] {
  return [...clockJumps(points, host, evidence, now), ...clockSetBack(evidence, now)];
}

function withinBoots(evidence: ClockEvidence): ClockJump[] {
  const boots = new Map<string, SampledRun[]>();
  for (const [runId, r] of evidence.runs)
    if (r.clock)
      boots.set(r.clock.bootId, [...(boots.get(r.clock.bootId) ?? []), { runId, ...r, clock: r.clock }]);
  const steps: ClockJump[] = [];
  for (const runs of boots.values()) {
    runs.sort((a, b) => a.clock.uptimeMs - b.clock.uptimeMs);
    for (let i = 1; i < runs.length; i++) {
      const [prev, run] = [runs[i - 1], runs[i]] as [SampledRun, SampledRun];
      const upMs = run.clock.uptimeMs - prev.clock.uptimeMs;
      const wallMs = Date.parse(run.clock.at) - Date.parse(prev.clock.at);
      const [from, to] = [Date.parse(prev.startedAt), Date.parse(run.startedAt)];
      if (!(to < from && upMs - wallMs > UPTIME_SLACK_MS)) continue; // NaN: no step either
      steps.push({ runId: run.runId, from: iso(from), to: iso(to), upMs, back: true });
    }
  }
  return steps;
}

/**
 * Each numbered run dated more than the slack before the run numbered before it, where the two are not
 * of one boot (`withinBoots` judges those, and measures the uptime between them). A number two runs
 * carry orders neither: two series in one state dir (an old one copied over a new host's, two hosts of
 * one name sharing it), whose numbers say nothing of each other.
 */
function acrossBoots(evidence: ClockEvidence): ClockJump[] {
  const count = new Map<number, number>();
  for (const r of evidence.runs.values())
    if (r.sequence !== undefined) count.set(r.sequence, (count.get(r.sequence) ?? 0) + 1);
  const numbered = [...evidence.runs]
    .filter(([, r]) => r.sequence !== undefined && count.get(r.sequence) === 1)
    .sort((a, b) => (a[1].sequence ?? 0) - (b[1].sequence ?? 0));
  const steps: ClockJump[] = [];
  for (let i = 1; i < numbered.length; i++) {
    const [[, prev], [runId, run]] = [numbered[i - 1], numbered[i]] as [
      (typeof numbered)[number],
      (typeof numbered)[number],
    ];
    if (prev.clock && run.clock && prev.clock.bootId === run.clock.bootId) continue;
    const [from, to] = [Date.parse(prev.startedAt), Date.parse(run.startedAt)];
    if (!(from - to > UPTIME_SLACK_MS)) continue; // NaN: no step either
    steps.push({ runId, from: iso(from), to: iso(to), back: true });
  }
  return steps;
}

const iso = (t: number) => new Date(t).toISOString();

import { mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { z } from "zod";
import type { Config } from "../../config/schema.ts";
import type { RunRecord } from "../backup/result.ts";
import { stampedAhead } from "../backup/run-records.ts";
import { writeFileAtomic } from "../durable.ts";

export interface UnitAge {
  unit: string;
  /** ISO time of the last run in which the unit ended ok; null: never. */
  lastSuccess: string | null;
  ageMs: number;
  maxAgeHours: number;
  overdue: boolean;
}
export type Overdue = UnitAge;

const HOUR_MS = 3_600_000;

/**
 * Each unit the run records know, its last successful backup and whether that is older than its limit
 * (`[units.X] max_age_hours`, else `[alerts] max_age_hours`; 0 never checks). A unit never backed up
 * successfully is measured from the first run that saw it. A success dated ahead of `now`
 * (`stampedAhead`: a run under a clock set wrong, since corrected) is not counted: kept, it would hold
 * the unit "fresh", and every failure after it silent, until that date came.
 */
export function unitAges(records: readonly RunRecord[], config: Config, now: Date): UnitAge[] {
  const first = new Map<string, string>();
  const last = new Map<string, string>();
  for (const r of records) {
    for (const u of r.units) {
      if (u.status === "skipped") continue;
      if (!first.has(u.name)) first.set(u.name, r.startedAt);
      if (u.status === "ok" && !stampedAhead(r, now) && r.finishedAt > (last.get(u.name) ?? ""))
        last.set(u.name, r.finishedAt);
    }
  }
  return [...first.keys()]
    .filter((name) => !config.units[name]?.exclude)
    .sort()
    .map((unit) => {
      const maxAgeHours = config.units[unit]?.max_age_hours ?? config.alerts.max_age_hours;
      const lastSuccess = last.get(unit) ?? null;
      const ageMs = now.getTime() - Date.parse(lastSuccess ?? first.get(unit) ?? now.toISOString());
      return {
        unit,
        lastSuccess,
        ageMs,
        maxAgeHours,
        overdue: maxAgeHours > 0 && ageMs > maxAgeHours * HOUR_MS,
      };
    });
}

/** `<state_dir>/alerts/missed.json`: units already alerted in their current overdue episode. */
const MissedStateSchema = z.object({ alerted: z.record(z.string(), z.string()) });
type MissedState = z.infer<typeof MissedStateSchema>;

function readState(file: string): MissedState {
  try {
    const s = MissedStateSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
    return s.success ? s.data : { alerted: {} };
  } catch {
    return { alerted: {} };
  }
}

/**
 * The overdue units not yet alerted in this episode. The new state (units back in time drop out, so
 * their next lapse is a new episode) is returned, and written by `commit` once the alert went out to
 * at least one target (or there is no target): a failed send is tried again next time.
 */
export function missedEpisodes(ages: readonly UnitAge[], stateFile: string, now: Date) {
  const state = readState(stateFile);
  const alerted: Record<string, string> = {};
  for (const a of ages) {
    const since = state.alerted[a.unit];
    if (a.overdue && since) alerted[a.unit] = since;
  }
  const fresh = ages.filter((a) => a.overdue && !state.alerted[a.unit]);
  const next = {
    alerted: { ...alerted, ...Object.fromEntries(fresh.map((a) => [a.unit, now.toISOString()])) },
  };
  return {
    fresh,
    commit(sent: boolean) {
      const keep = sent ? next : { alerted };
      mkdirSync(dirname(stateFile), { recursive: true, mode: 0o700 });
      writeFileAtomic(stateFile, `${JSON.stringify(keep, null, 2)}\n`, 0o600);
    },
  };
}

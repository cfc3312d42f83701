import { statSync } from "node:fs";
import type { ResolvedPaths } from "../../config/resolve.ts";
import type { Config } from "../../config/schema.ts";
import { scanRunRecords, skippedLine } from "../backup/run-records.ts";
import type { Check } from "../doctor.ts";
import { formatDuration } from "../format.ts";
import { readMarker } from "../repository/saved.ts";
import { unitAges } from "./freshness.ts";

const HOUR_MS = 3_600_000;
const LOOK = "kopi-docka history --failed; kopi-docka systemd logs";
const RUN_ONE = "kopi-docka backup runs one now (as the timer would: kopi-docka systemd run-now --follow)";

/**
 * doctor's `freshness` lines: each unit's last good backup against its limit (the one
 * `check-freshness` alerts on), a fail once past it; and a line for a host where no unit was ever
 * backed up, which the per-unit lines (made from run records) would leave out.
 */
export function freshnessChecks(
  config: Config,
  paths: ResolvedPaths,
  configPath: string | undefined,
  now: Date,
): Check[] {
  const { records, skipped } = scanRunRecords(paths.runsDir);
  const ages = unitAges(records, config, now);
  // A file that is no run record is left out of every line below: said, so an "ok" is read with it.
  const left: Check[] = skipped.map((s) => ({
    id: "freshness",
    status: "warn",
    detail: skippedLine(s),
    hint: `move it out of ${paths.runsDir}`,
  }));
  if (ages.length === 0) return [...left, neverBackedUp(config, paths, configPath, records.length, now)];
  return [
    ...left,
    ...ages.map((a): Check => {
      const age = a.lastSuccess ? `last good backup ${formatDuration(a.ageMs)} ago` : "never backed up";
      const detail = `${a.unit}: ${age}${a.maxAgeHours > 0 ? ` (limit ${a.maxAgeHours}h)` : ""}`;
      return a.overdue
        ? { id: "freshness", status: "fail", detail, hint: LOOK }
        : { id: "freshness", status: "ok", detail };
    }),
  ];
}

/**
 * Right after setup the first backup may not have run yet: a warning until the alerting limit has
 * passed since the host was set up (its repository connected, else its config written), a fail after.
 */
function neverBackedUp(
  config: Config,
  paths: ResolvedPaths,
  configPath: string | undefined,
  runs: number,
  now: Date,
): Check {
  const what = `no unit has been backed up on this host yet${runs ? ` (runs so far: ${runs})` : ""}`;
  const since = setUpAt(paths, configPath);
  const limitH = config.alerts.max_age_hours;
  if (since === undefined || limitH === 0)
    return { id: "freshness", status: "warn", detail: what, hint: RUN_ONE };
  const ageMs = Math.max(0, now.getTime() - since);
  const detail = `${what}; set up ${formatDuration(ageMs)} ago (limit ${limitH}h)`;
  return ageMs > limitH * HOUR_MS
    ? { id: "freshness", status: "fail", detail, hint: `${LOOK}; ${RUN_ONE}` }
    : { id: "freshness", status: "warn", detail, hint: RUN_ONE };
}

/** When this host was set up, in ms: its repository connection (setup's commit), else its config file. */
function setUpAt(paths: ResolvedPaths, configPath: string | undefined): number | undefined {
  const connected = Date.parse(readMarker(paths.stateDir)?.connectedAt ?? "");
  if (!Number.isNaN(connected)) return connected;
  if (!configPath) return undefined;
  try {
    return statSync(configPath).mtimeMs;
  } catch {
    return undefined;
  }
}

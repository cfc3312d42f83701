import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { scanRunRecords } from "../backup/run-records.ts";
import { writeFileAtomic } from "../durable.ts";
import { currentBootId } from "../lock/owner.ts";
import type { ClockEvidence, ClockSample, RunClock } from "./clock-jumps.ts";

/** Both of the host's clocks now (`ClockSample`); undefined where /proc does not tell (not Linux). */
export function sampleClock(read = (file: string) => readFileSync(file, "utf8")): ClockSample | undefined {
  try {
    const uptime = Number.parseFloat(read("/proc/uptime").split(" ")[0] ?? "");
    const bootId = currentBootId();
    if (!Number.isFinite(uptime) || !bootId) return undefined;
    return { at: new Date().toISOString(), bootId, uptimeMs: Math.round(uptime * 1000) };
  } catch {
    return undefined;
  }
}

const ClockSampleSchema = z.object({ at: z.string(), bootId: z.string(), uptimeMs: z.number() });
const TrustedSchema = z.object({ runs: z.array(z.string()) });

/**
 * `<state_dir>/clock-trusted.json`: the runs whose gap before them the admin said was time that
 * passed, or whose clock set back to count by its dates (`snapshots expire --trust-clock`), so
 * retention counts across it from then on.
 */
export const trustedClockFile = (stateDir: string) => join(stateDir, "clock-trusted.json");

function readTrusted(stateDir: string): string[] {
  try {
    const parsed = TrustedSchema.safeParse(JSON.parse(readFileSync(trustedClockFile(stateDir), "utf8")));
    return parsed.success ? parsed.data.runs : [];
  } catch {
    return []; // none yet; a torn file trusts nothing, which keeps points
  }
}

/**
 * What retention knows of `host`'s clock: its run records (start, and the clocks then and the run's
 * number where the record has them), the run under way (`current`: its record is written after
 * retention), and the gaps the admin trusted.
 */
export function readClockEvidence(
  paths: { runsDir: string; stateDir: string },
  host: string,
  current?: RunClock & { runId: string },
): ClockEvidence {
  const runs = new Map<string, RunClock>();
  // Read quietly: the run itself warns of a file that is no run record (`readRunRecords`).
  for (const r of scanRunRecords(paths.runsDir).records) {
    if (r.hostname !== host || typeof r.startedAt !== "string") continue;
    const clock = ClockSampleSchema.safeParse(r.clock);
    runs.set(r.runId, {
      startedAt: r.startedAt,
      ...(clock.success ? { clock: clock.data } : {}),
      ...(r.sequence ? { sequence: r.sequence } : {}),
    });
  }
  if (current) runs.set(current.runId, current);
  return { runs, trusted: new Set(readTrusted(paths.stateDir)) };
}

/** Records `runIds` as runs whose gap before them is time that passed (the caller holds the host lock). */
export function trustClockJumps(stateDir: string, runIds: readonly string[]): void {
  if (runIds.length === 0) return;
  const runs = [...new Set([...readTrusted(stateDir), ...runIds])];
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  writeFileAtomic(trustedClockFile(stateDir), `${JSON.stringify({ runs }, null, 2)}\n`, 0o600);
}

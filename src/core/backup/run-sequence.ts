import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { errorMessage } from "../caught.ts";
import { writeFileAtomic } from "../durable.ts";
import { scanRunRecords } from "./run-records.ts";

/**
 * `<state_dir>/run-sequence`: the number of the last backup run that started on this host. Each run
 * counts one up at its start, under the host lock, so the numbers order the runs as they ran, whatever
 * the wall clock said (`RunRecord.sequence`): across a reboot the only order that does not come from
 * the clock (run ids and the records' order are its dates).
 */
export const runSequenceFile = (stateDir: string) => join(stateDir, "run-sequence");

function readCounter(stateDir: string): number {
  try {
    const text = readFileSync(runSequenceFile(stateDir), "utf8").trim();
    return /^\d{1,15}$/.test(text) ? Number(text) : 0;
  } catch {
    return 0; // none yet
  }
}

/** The highest number a run record of this state directory carries (0: none does). */
function highestRecorded(runsDir: string): number {
  let highest = 0;
  for (const r of scanRunRecords(runsDir).records)
    if (r.sequence !== undefined && r.sequence > highest) highest = r.sequence;
  return highest;
}

/**
 * The number the next run takes: one past both the counter and every run record's. The records count
 * too: a counter missing, torn or put back with the rest of the state directory from a backup of it
 * never gives a number a recorded run already has. Reads only (`backup --dry-run` judges with it).
 */
export function peekRunSequence(paths: { stateDir: string; runsDir: string }): number {
  return Math.max(readCounter(paths.stateDir), highestRecorded(paths.runsDir)) + 1;
}

/**
 * Takes this run's number (the caller holds the host lock): the counter is written durably before the
 * run goes on, so a run that crashes leaves its number used. Undefined when it cannot be written: the
 * run then carries no number, and its clock is judged as an older record's is (never more expired).
 */
export function takeRunSequence(
  paths: { stateDir: string; runsDir: string },
  warn: (line: string) => void,
): number | undefined {
  const next = peekRunSequence(paths);
  try {
    mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
    writeFileAtomic(runSequenceFile(paths.stateDir), `${next}\n`, 0o600);
    return next;
  } catch (e) {
    warn(
      `run counter ${runSequenceFile(paths.stateDir)} not written (${errorMessage(e)}): this run carries no number, and a clock set back across a reboot is not seen for it`,
    );
    return undefined;
  }
}

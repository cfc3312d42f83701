import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { errorMessage } from "../caught.ts";
import { nodeFs, type SyncFs, writeFileAtomic } from "../durable.ts";
import type { RunRecord } from "./result.ts";
import { parseRunRecord } from "./run-record-schema.ts";
import { sourceKey } from "./sources.ts";

/** A sortable, unique run id: `20250131T235959Z-1a2b3c`. */
export function newRunId(now: Date, random = Math.random): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `${stamp}-${Math.floor(random() * 0xffffff)
    .toString(16)
    .padStart(6, "0")}`;
}

/** Writes `<runsDir>/<run_id>.json` atomically (0600). */
export function writeRunRecord(runsDir: string, record: RunRecord, fs: SyncFs = nodeFs): string {
  mkdirSync(runsDir, { recursive: true, mode: 0o700 });
  const file = join(runsDir, `${record.runId}.json`);
  // fsync'd before the rename: after a crash `history` sees this run complete, or not at all.
  writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`, 0o600, fs);
  return file;
}

/** A file in the runs directory that is no run record, and why. */
export interface SkippedRecord {
  file: string;
  why: string;
}

/** A run record and the file it was read from (its name need not be its run id: one put back by hand). */
export interface RunFile {
  file: string;
  record: RunRecord;
}

type Parsed = ReturnType<typeof parseRunRecord>;

// What each file of a runs directory read as, and the stat it had then (size, mtime, ctime, inode,
// device). One backup scans the directory four or five times (its number, the plan, retention's clock,
// the alerts): a file whose stat is unchanged is not read again. Any write sets ctime, which neither
// `touch -d`, `cp -p` nor tar can set back, so a same-size rewrite within one mtime tick or a file put
// back with its old mtime (a reused inode) is read again.
interface Seen {
  /** size, mtime, ctime, inode and device, as one string. */
  stamp: string;
  read: Parsed;
}
const parsed = new Map<string, Map<string, Seen>>();

const readUtf8 = (file: string) => readFileSync(file, "utf8");

/** What `file` reads as: from `before` when its stat is unchanged, else read and parsed; noted in `seen`. */
function parseFile(
  file: string,
  seen: Map<string, Seen>,
  before: ReadonlyMap<string, Seen> | undefined,
  readText: (file: string) => string,
): Parsed {
  let stamp: string | undefined;
  try {
    const s = statSync(file);
    stamp = `${s.size} ${s.mtimeMs} ${s.ctimeMs} ${s.ino} ${s.dev}`;
  } catch {
    stamp = undefined; // read below, as any unreadable file is
  }
  const known = before?.get(file);
  if (stamp !== undefined && known?.stamp === stamp) {
    seen.set(file, known);
    return known.read;
  }
  let text: string;
  try {
    text = readText(file);
  } catch (e) {
    // Not kept: a file unreadable now (permissions, a directory) may read next time with the same stat.
    return { why: `unreadable (${errorMessage(e)})` };
  }
  const read = parseRunRecord(text); // never throws: what is wrong is its `why`
  if (stamp !== undefined) seen.set(file, { stamp, read });
  return read;
}

/**
 * Every run record that reads as one with its file, oldest first (by start, then id), and the files
 * left out: a torn write, a hand-written or foreign file. Pure reading, but for the per-process cache
 * of what each file read as; the records are shared between calls and read only. The files are what
 * the pruning removes (`run-records-prune.ts`).
 */
export function scanRunFiles(
  runsDir: string,
  readText: (file: string) => string = readUtf8,
): { runs: RunFile[]; skipped: SkippedRecord[] } {
  let names: string[];
  try {
    names = readdirSync(runsDir).filter((n) => n.endsWith(".json"));
  } catch {
    parsed.delete(runsDir);
    return { runs: [], skipped: [] };
  }
  const before = parsed.get(runsDir);
  // Only the files listed now: one removed or moved away drops out.
  const seen = new Map<string, Seen>();
  const runs: RunFile[] = [];
  const skipped: SkippedRecord[] = [];
  for (const n of names.sort()) {
    const file = join(runsDir, n);
    const read = parseFile(file, seen, before, readText);
    if ("record" in read) runs.push({ file, record: read.record });
    else skipped.push({ file, why: read.why });
  }
  parsed.set(runsDir, seen);
  runs.sort(
    (a, b) =>
      a.record.startedAt.localeCompare(b.record.startedAt) || a.record.runId.localeCompare(b.record.runId),
  );
  return { runs, skipped };
}

/**
 * Every run record that reads as one, oldest first (by start, then id), and the files left out: a torn
 * write, a hand-written or foreign file. Pure reading; `readRunRecords` is what warns. A file whose
 * stat did not change since this process read it is not read again (`scanRunFiles`).
 */
export function scanRunRecords(
  runsDir: string,
  readText: (file: string) => string = readUtf8,
): { records: RunRecord[]; skipped: SkippedRecord[] } {
  const { runs, skipped } = scanRunFiles(runsDir, readText);
  return { records: runs.map((r) => r.record), skipped };
}

// A backup scans the records four or five times (its number, the plan's facts, the clock, the alerts):
// each bad file is told once per process, and again only if what is wrong with it changed.
const told = new Set<string>();

/** The line a skipped file is warned with. */
export const skippedLine = (s: SkippedRecord) =>
  `run record ${s.file} left out (${s.why}): history, freshness and metrics go without it`;

/**
 * Every run record that reads as one, oldest first. A file that does not (torn, foreign, hand-written)
 * is skipped with one warning through `warn`, never a failure: a nightly backup must not be stopped by
 * its own history.
 */
export function readRunRecords(runsDir: string, warn: (line: string) => void): RunRecord[] {
  const { records, skipped } = scanRunRecords(runsDir);
  for (const s of skipped) {
    const key = `${s.file}\0${s.why}`;
    if (told.has(key)) continue;
    told.add(key);
    warn(`${skippedLine(s)}; move it away`);
  }
  return records;
}

/** How far ahead of now a run may be stamped and still count: clocks of one host drift. */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;

/**
 * A run stamped later than `now` (beyond the drift tolerance): one made under a clock set ahead, since
 * corrected. Taken as the last run or the last success, it would hide every run after it until that
 * date came.
 */
export function stampedAhead(record: Pick<RunRecord, "startedAt" | "finishedAt">, now: Date): boolean {
  const latest = now.getTime() + FUTURE_TOLERANCE_MS;
  return Date.parse(record.startedAt) > latest || Date.parse(record.finishedAt) > latest;
}

/** Each unit's cold window in the most recent run that recorded one (for the dry-run prediction). */
export function lastColdWindows(records: readonly RunRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records)
    for (const u of r.units) if (u.coldWindowMs !== undefined) out[u.name] = u.coldWindowMs;
  return out;
}

/** Each source's size in the most recent run that saved a snapshot of it (the manifest's size). */
export function lastSourceBytes(records: readonly RunRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records)
    for (const u of r.units)
      for (const s of u.sources)
        if (s.status === "ok" && s.bytes !== undefined) out[sourceKey(u.name, s.type, s.label)] = s.bytes;
  return out;
}

/** What the next plan learns from past runs: cold windows and snapshot sizes. */
export function lastRunFacts(records: readonly RunRecord[]) {
  return { lastColdWindows: lastColdWindows(records), lastSourceBytes: lastSourceBytes(records) };
}

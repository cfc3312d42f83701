import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { nodeFs, type SyncFs, writeFileAtomic } from "../durable.ts";
import type { RunRecord } from "./result.ts";
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

/** Every readable run record, oldest first; unreadable files are skipped. */
export function readRunRecords(runsDir: string): RunRecord[] {
  let names: string[];
  try {
    names = readdirSync(runsDir).filter((n) => n.endsWith(".json"));
  } catch {
    return [];
  }
  const out: RunRecord[] = [];
  for (const n of names) {
    try {
      const r = JSON.parse(readFileSync(join(runsDir, n), "utf8")) as RunRecord;
      if (r && typeof r.runId === "string" && Array.isArray(r.units)) out.push(r);
    } catch {
      // a torn or foreign file: history shows what it can
    }
  }
  return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
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

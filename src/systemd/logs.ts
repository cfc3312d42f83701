import { readHistory } from "../core/backup/history.ts";
import type { RunRecord } from "../core/backup/result.ts";
import { UsageError } from "../core/errors.ts";
import { isRecord } from "../core/guards.ts";
import type { Runner } from "../core/process/runner.ts";
import { SERVICE_UNIT } from "./units.ts";

/** What `systemd logs` reads: which lines, since when, and whether to keep following. */
export interface LogsRequest {
  lines?: string;
  since?: string;
  follow?: boolean;
}

/** One journal entry of the backup service (from `journalctl -o json`). */
export interface JournalEntry {
  time: string;
  pid?: string;
  priority?: string;
  message: string;
}

export type LogsResult =
  | { source: "journal"; unit: string; entries: JournalEntry[] }
  | { source: "run-records"; note: string; runs: RunRecord[] };

/** Journal lines shown when `--lines` is not given. */
export const DEFAULT_LOG_LINES = 200;
/** Run records shown instead when systemd is not running and `--lines` is not given. */
export const DEFAULT_FALLBACK_RUNS = 10;

export function parseLines(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--lines ${value}: not a positive whole number`);
  return n;
}

/** `journalctl` for the backup service; `follow` keeps reading until stopped. */
export function journalctlArgv(o: {
  lines: number;
  since?: string;
  follow?: boolean;
  json?: boolean;
}): string[] {
  return [
    "journalctl",
    "--unit",
    SERVICE_UNIT,
    "--no-pager",
    "--output",
    o.json ? "json" : "short-iso",
    "--lines",
    String(o.lines),
    ...(o.since ? ["--since", o.since] : []),
    ...(o.follow ? ["--follow"] : []),
  ];
}

/** Parses `journalctl -o json` (one object a line); fields journald did not record are absent. */
export function parseJournal(stdout: string): JournalEntry[] {
  const out: JournalEntry[] = [];
  for (const line of stdout.split("\n")) {
    if (!line.trim().startsWith("{")) continue;
    try {
      const e: unknown = JSON.parse(line);
      if (!isRecord(e)) continue;
      const usec = Number(e.__REALTIME_TIMESTAMP);
      const message = Array.isArray(e.MESSAGE)
        ? Buffer.from(e.MESSAGE.map(Number)).toString("utf8") // journald stores non-UTF-8 as bytes
        : String(e.MESSAGE ?? "");
      out.push({
        time: Number.isFinite(usec) ? new Date(usec / 1000).toISOString() : "",
        ...(typeof e._PID === "string" ? { pid: e._PID } : {}),
        ...(typeof e.PRIORITY === "string" ? { priority: e.PRIORITY } : {}),
        message,
      });
    } catch {
      // a torn line at the end of a rotated file: skip it
    }
  }
  return out;
}

/**
 * The backup service's log. With systemd: its journal, as entries. Without (a container, a host
 * booted otherwise): the last run records, and a note saying so. `--follow` is `followLogs`.
 */
export async function readLogs(
  req: LogsRequest,
  deps: { runner: Runner; systemdRunning: boolean; runsDir: string; warn: (line: string) => void },
): Promise<LogsResult> {
  if (!deps.systemdRunning) {
    if (req.follow) throw new UsageError("--follow needs systemd's journal, and systemd is not running here");
    const runs = readHistory(
      deps.runsDir,
      {
        last: String(parseLines(req.lines, DEFAULT_FALLBACK_RUNS)),
        ...(req.since ? { since: req.since } : {}),
      },
      deps.warn,
    );
    return {
      source: "run-records",
      note: `systemd is not running here (no journal): the last ${runs.length} run record(s) from ${deps.runsDir} instead`,
      runs,
    };
  }
  const argv = journalctlArgv({
    lines: parseLines(req.lines, DEFAULT_LOG_LINES),
    since: req.since,
    json: true,
  });
  const { stdout } = await deps.runner.run(argv, { timeoutMs: 120_000 });
  return { source: "journal", unit: SERVICE_UNIT, entries: parseJournal(stdout) };
}

/** `logs --follow`: journalctl owns the terminal until Ctrl+C (or `signal`). */
export async function followLogs(
  req: LogsRequest,
  deps: { runner: Runner; systemdRunning: boolean; signal?: AbortSignal },
): Promise<void> {
  if (!deps.systemdRunning)
    throw new UsageError("--follow needs systemd's journal, and systemd is not running here");
  const argv = journalctlArgv({ lines: parseLines(req.lines, 10), since: req.since, follow: true });
  await deps.runner.run(argv, { stdio: "inherit", check: false, signal: deps.signal });
}

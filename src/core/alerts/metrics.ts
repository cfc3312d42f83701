import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { RunRecord, UnitResult } from "../backup/result.ts";
import { stampedAhead } from "../backup/run-records.ts";

/** Prometheus label value escaping (text exposition format 0.0.4). */
export const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** 0 ok, 1 failed, 2 partial (the unit failed, but some of its snapshots were saved). */
export function unitStatusValue(u: UnitResult): number {
  if (u.status === "ok") return 0;
  return u.sources.some((s) => s.status === "ok") ? 2 : 1;
}

const sec = (iso: string) => Date.parse(iso) / 1000;

interface Family {
  name: string;
  help: string;
  samples: { labels?: Record<string, string>; value: number }[];
}

function render(families: readonly Family[]): string {
  const out: string[] = [];
  for (const f of families) {
    if (f.samples.length === 0) continue;
    out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} gauge`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels ?? {})
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(",");
      out.push(`${f.name}${labels ? `{${labels}}` : ""} ${s.value}`);
    }
  }
  return `${out.join("\n")}\n`;
}

/** What the textfile is made from. */
export interface MetricsInput {
  /** Every run record, oldest first (as `readRunRecords` gives them). */
  records: readonly RunRecord[];
  /** The run that just ended, when it left a record: the last run, whatever the others' dates say. */
  current?: RunRecord;
  now: Date;
  /** The repository's snapshot count, when it was read. */
  repositorySnapshots?: number;
}

/**
 * The textfile for node_exporter: per unit its latest run and its latest success; per run the latest
 * run; the repository's snapshot count when it was read. The run that just ended is applied last; a
 * record stamped ahead of `now` (`stampedAhead`: a clock set ahead, since corrected) is left out, or it
 * would stand as the last run and the last success, "ok", over every failure until its date came.
 */
export function renderMetrics(input: MetricsInput): string {
  const { current, now } = input;
  const past = input.records.filter((r) => r.runId !== current?.runId && !stampedAhead(r, now));
  const runs = current ? [...past, current] : past;
  const latest = new Map<string, UnitResult>();
  const success = new Map<string, number>();
  for (const r of runs) {
    for (const u of r.units) {
      if (u.status === "skipped") continue;
      latest.set(u.name, u);
      if (u.status === "ok") success.set(u.name, sec(r.finishedAt));
    }
  }
  const units = [...latest.values()].sort((a, b) => a.name.localeCompare(b.name));
  const per = (f: (u: UnitResult) => number | undefined) =>
    units.flatMap((u) => {
      const value = f(u);
      return value === undefined ? [] : [{ labels: { unit: u.name }, value }];
    });
  const last = runs.at(-1);
  const counts = { ok: 0, failed: 0, skipped: 0 };
  for (const u of last?.units ?? []) counts[u.status]++;
  return render([
    {
      name: "kopi_docka_last_success_timestamp_seconds",
      help: "Unix time at the end of the last run in which the unit was backed up successfully.",
      samples: per((u) => success.get(u.name)),
    },
    {
      name: "kopi_docka_last_run_status",
      help: "The unit's last backup: 0 ok, 1 failed, 2 partial.",
      samples: per(unitStatusValue),
    },
    {
      name: "kopi_docka_cold_window_seconds",
      help: "Seconds the unit's containers were stopped in its last backup.",
      samples: per((u) => (u.coldWindowMs === undefined ? undefined : u.coldWindowMs / 1000)),
    },
    {
      name: "kopi_docka_frozen_window_seconds",
      help: "Seconds from all of the unit's containers stopped to the first start, in its last backup.",
      samples: per((u) => (u.frozenWindowMs === undefined ? undefined : u.frozenWindowMs / 1000)),
    },
    {
      name: "kopi_docka_unprotected_items",
      help: "Volumes and binds of the unit its last backup could not protect (NOT PROTECTED: not backed up).",
      samples: per((u) => u.notProtected?.length ?? 0),
    },
    {
      name: "kopi_docka_backup_bytes",
      help: "Bytes in the snapshots of the unit's last backup.",
      samples: per((u) => u.bytes),
    },
    {
      name: "kopi_docka_backup_files",
      help: "Files in the snapshots of the unit's last backup.",
      samples: per((u) => u.sources.reduce((n, s) => n + (s.status === "ok" ? (s.files ?? 0) : 0), 0)),
    },
    {
      name: "kopi_docka_backup_duration_seconds",
      help: "Seconds the unit's last backup took.",
      samples: per((u) => u.durationMs / 1000),
    },
    {
      name: "kopi_docka_run_timestamp_seconds",
      help: "Unix time at the end of the last backup run (interrupted and failed runs included).",
      samples: last ? [{ value: sec(last.finishedAt) }] : [],
    },
    {
      name: "kopi_docka_units",
      help: "Units in the last backup run, by their status.",
      samples: last ? Object.entries(counts).map(([status, value]) => ({ labels: { status }, value })) : [],
    },
    {
      name: "kopi_docka_repository_snapshots",
      help: "Snapshots of this host in the repository after the last run.",
      samples: input.repositorySnapshots === undefined ? [] : [{ value: input.repositorySnapshots }],
    },
  ]);
}

/** Temp file in the same directory, then rename: node_exporter never reads half a file. */
export function writeTextfile(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, file);
}

import type { DurationSpread, UnitStats } from "../core/backup/history-stats.ts";
import { type PhaseError, type RunRecord, savedBytes, summaryLines } from "../core/backup/result.ts";
import { formatBytes, formatDuration, renderTable } from "../core/format.ts";
import { maintenanceLine } from "./backup-report.ts";

const indent = (text: string, by = "    ") =>
  text
    .split("\n")
    .map((l) => `${by}${l}`)
    .join("\n");

/** One error: phase, item, message, its next step if it names one, then the child's stderr tail. */
function errorLines(e: PhaseError): string[] {
  const [first, ...rest] = e.message.split("\n");
  const out = [`  ${e.phase}${e.item ? ` ${e.item}` : ""}: ${first ?? ""}`];
  if (rest.length) out.push(indent(rest.join("\n")));
  if (e.next) out.push(`    next: ${e.next}`);
  if (e.stderrTail && !e.message.includes(e.stderrTail.trim())) {
    out.push("    stderr (last lines):", indent(e.stderrTail, "      "));
  }
  return out;
}

/** `history --id`: one run in full, unit by unit and snapshot by snapshot. */
export function renderRunDetail(r: RunRecord): string[] {
  const out = [
    `run ${r.runId}: ${r.status}${r.interrupted ? ` (interrupted by ${r.interrupted})` : ""}`,
    `  started ${r.startedAt}, finished ${r.finishedAt}, took ${formatDuration(r.durationMs)}`,
    `  host ${r.hostname}, scope ${r.scope}, kopi-docka ${r.version}`,
    `  ${summaryLines(r)[0]}`,
  ];
  for (const u of r.units) {
    const cold = u.coldWindowMs !== undefined ? `, cold ${formatDuration(u.coldWindowMs)}` : "";
    out.push(
      "",
      `unit ${u.name}: ${u.status}, ${formatDuration(u.durationMs)}${cold}, ${formatBytes(u.bytes ?? savedBytes(u.sources))} saved (backup id ${u.backupId})`,
    );
    if (u.stopped.length) out.push(`  stopped and started again: ${u.stopped.join(", ")}`);
    if (u.restartFailed.length) out.push(`  NOT RUNNING AGAIN: ${u.restartFailed.join(", ")}`);
    if (u.sources.length) {
      const rows = u.sources.map((s) => [
        s.type,
        s.label,
        s.status,
        s.snapshotId ?? "-",
        s.bytes !== undefined ? formatBytes(s.bytes) : "-",
        s.files !== undefined ? String(s.files) : "-",
        formatDuration(s.durationMs),
        s.reason ?? "",
      ]);
      out.push(
        indent(
          renderTable(["TYPE", "SOURCE", "STATUS", "SNAPSHOT", "SIZE", "FILES", "TIME", "WHY"], rows),
          "  ",
        ),
      );
    } else out.push("  no snapshot");
    for (const g of u.notProtected ?? []) out.push(`  not backed up: ${g}`);
    for (const w of u.warnings ?? []) out.push(`  warning: ${w}`);
    if (u.errors.length)
      out.push("  errors:", ...u.errors.flatMap((e) => errorLines(e).map((l) => `  ${l}`)));
  }
  if (r.units.length === 0) out.push("", "no unit was planned");
  if (r.restartFailed?.length) out.push("", `NOT RUNNING (start failed): ${r.restartFailed.join(", ")}`);
  if (r.warnings?.length) out.push("", ...r.warnings.map((w) => `warning: ${w}`));
  if (r.maintenance?.length) out.push("", ...r.maintenance.map(maintenanceLine));
  if (r.expired?.length) out.push("", `past [retention], removed: ${r.expired.join(", ")}`);
  if (r.errors.length) out.push("", "run errors:", ...r.errors.flatMap(errorLines));
  return out;
}

const spreadCells = (s: DurationSpread | undefined) =>
  s ? [formatDuration(s.avgMs), formatDuration(s.minMs), formatDuration(s.maxMs)] : ["-", "-", "-"];

/** `history --stats`: one row per unit. */
export function renderHistoryStats(stats: UnitStats[]): string {
  if (stats.length === 0) return "no backup runs recorded";
  const rows = stats.map((s) => [
    s.unit,
    String(s.runs),
    String(s.ok),
    String(s.failed),
    String(s.skipped),
    ...spreadCells(s.duration),
    ...spreadCells(s.coldWindow),
    s.lastOkAt ?? "never",
  ]);
  // A run stamped ahead of the clock is no unit's LAST OK: said below the table, not hidden.
  const ahead = stats.flatMap((s) =>
    s.ahead
      ? [
          `${s.unit}: ${s.ahead.runs} run(s) stamped ahead of this host's clock (latest ${s.ahead.latestAt}), not taken as its last`,
        ]
      : [],
  );
  const table = renderTable(
    [
      "UNIT",
      "RUNS",
      "OK",
      "FAILED",
      "SKIPPED",
      "AVG",
      "MIN",
      "MAX",
      "COLD AVG",
      "COLD MIN",
      "COLD MAX",
      "LAST OK",
    ],
    rows,
  );
  return ahead.length ? [table, "", ...ahead].join("\n") : table;
}

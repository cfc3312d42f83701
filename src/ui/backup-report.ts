import { fsSnapshotFallback } from "../core/backup/fs-snapshot.ts";
import type { BackupPlan, UnitPlan } from "../core/backup/plan-model.ts";
import { type RunRecord, savedBytes } from "../core/backup/result.ts";
import { formatBytes, formatDuration, renderTable } from "../core/format.ts";
import { type ExpirePlan, heldLine } from "../core/restore-points/plan.ts";

/** The dry-run report: per unit, what stops in which order, what is snapshotted, what is left out and why. */
/** What retention would remove after the run (`backup --dry-run`), or why that is not known. */
export type RetentionPreview =
  | {
      remove: string[];
      skipped: { unit: string; reason: string }[];
      held?: ExpirePlan["held"];
    }
  | { unknown: string };

export function renderBackupPlan(plan: BackupPlan & { retention?: RetentionPreview }): string {
  const out: string[] = [
    `backup plan ${plan.runId} (scope ${plan.scope}, host ${plan.hostname}): ${plan.units.length} unit(s), ` +
      `~${formatBytes(plan.estimatedBytes)} known data`,
  ];
  for (const u of plan.units) {
    const cold =
      u.predictedColdWindowMs !== undefined
        ? `, last cold window ${formatDuration(u.predictedColdWindowMs)}`
        : "";
    out.push("", `unit ${u.name} (${u.type}, ${u.mode})${cold}`);
    if (u.refused) out.push(`  REFUSED (the run fails it): ${u.refused}`);
    if (u.hooks.preBackup) out.push(`  pre-backup hook: ${u.hooks.preBackup}`);
    out.push(
      `  stop: ${u.stopOrder.join(" → ") || "(nothing)"}   start: ${u.startOrder.join(" → ") || "(nothing)"}${u.maxColdSeconds !== undefined ? `   max cold: ${u.maxColdSeconds}s` : ""}`,
    );
    out.push(
      indent(
        renderTable(
          ["CONTAINER", "ACTION", "TIMEOUT", "WHY"],
          u.containers.map((c) => [c.name, c.action, `${c.stopTimeout}s (${c.stopTimeoutFrom})`, c.reason]),
        ),
      ),
    );
    out.push(
      indent(
        renderTable(
          ["SOURCE", "WHAT", "SIZE", "LAST", "WHY"],
          u.sources.map((s) => [
            s.type,
            s.label,
            s.sizeBytes !== undefined ? formatBytes(s.sizeBytes) : "-",
            s.lastSnapshotBytes !== undefined ? formatBytes(s.lastSnapshotBytes) : "-",
            s.reason,
          ]),
        ),
      ),
    );
    for (const c of u.containers) if (c.stopTimeoutWarning) out.push(`  warning: ${c.stopTimeoutWarning}`);
    if (u.mode === "fs-snapshot") out.push(...fsSnapshotLines(u));
    for (const s of u.skipped) out.push(`  skipped ${s.kind} ${s.id}: ${s.reason}`);
    if (u.hooks.postBackup) out.push(`  post-backup hook: ${u.hooks.postBackup}`);
  }
  for (const s of plan.skippedUnits) out.push(`skipped unit ${s.name}: ${s.reason}`);
  const r = plan.retention;
  if (r) out.push("", ...retentionLines(r));
  return out.join("\n");
}

function retentionLines(r: RetentionPreview): string[] {
  if ("unknown" in r) return [`retention after the run: not known, ${r.unknown}`];
  const lines = r.remove.length
    ? [`retention after the run removes ${r.remove.length} restore point(s): ${r.remove.join(", ")}`]
    : ["retention after the run removes no restore point"];
  return [
    ...lines,
    ...r.skipped.map((s) => `retention not applied to ${s.unit}: ${s.reason}`),
    ...(r.held ?? []).map(heldLine),
  ];
}

/** Per data source of an `fs-snapshot` unit: frozen by which snapshot, or read cold and why. */
function fsSnapshotLines(u: UnitPlan): string[] {
  const lines = u.sources.flatMap((s) => {
    const p = s.fsSnapshot;
    if (!p) return [];
    const how =
      p.kind === "snapshot"
        ? `fs-snapshot of ${p.driver} subvolume ${p.volume}${p.relative ? `, read at ${p.relative}` : ""}`
        : `cold: ${p.reason}`;
    return [`  ${s.type} ${s.label}: ${how}`];
  });
  const fallback = fsSnapshotFallback(u);
  return fallback ? [...lines, "  the whole unit is backed up cold (every source must be on btrfs)"] : lines;
}

/** Column titles of `unitRow`, shared by the end-of-run summary and `history`. */
export const UNIT_ROW_HEADER = [
  "UNIT",
  "STATUS",
  "SNAPSHOTS",
  "SIZE",
  "COLD",
  "FROZEN",
  "TIME",
  "PROBLEM",
] as const;

/**
 * One unit of a run record as cells: status, snapshots ok/total, saved size, cold window (first stop →
 * last container running), frozen window (all stopped → first start), time, first problem.
 */
export function unitRow(u: RunRecord["units"][number]): string[] {
  return [
    u.name,
    u.status,
    `${u.sources.filter((s) => s.status === "ok").length}/${u.sources.length}`,
    formatBytes(u.bytes ?? savedBytes(u.sources)),
    u.coldWindowMs !== undefined ? formatDuration(u.coldWindowMs) : "-",
    u.frozenWindowMs !== undefined ? formatDuration(u.frozenWindowMs) : "-",
    formatDuration(u.durationMs),
    u.errors[0] ? `${u.errors[0].phase}: ${u.errors[0].message.split("\n")[0]}` : "",
  ];
}

/**
 * The row of a run that recorded no unit (cut short before planning, or nothing to back up): without
 * it `history` would hide the run entirely.
 */
export function emptyRunRow(r: RunRecord): string[] {
  const why = r.interrupted
    ? `interrupted by ${r.interrupted} before any unit`
    : (r.errors[0]?.message ?? "no unit");
  return ["-", r.status, "0/0", "-", "-", "-", formatDuration(r.durationMs), why.split("\n")[0] ?? ""];
}

/** `history`: one row per unit of each run, newest run first. */
export function renderHistory(runs: RunRecord[]): string {
  if (runs.length === 0) return "no backup runs recorded";
  const rows = runs.flatMap((r) => [
    ...(r.units.length ? r.units.map((u) => [r.runId, ...unitRow(u)]) : [[r.runId, ...emptyRunRow(r)]]),
    ...healRows(r).map((row) => [r.runId, ...row]),
    ...maintenanceRows(r).map((row) => [r.runId, ...row]),
    ...replicaRows(r).map((row) => [r.runId, ...row]),
  ]);
  return renderTable(["RUN", ...UNIT_ROW_HEADER], rows);
}

/** One line per unit for the end of a run (and one per replica copied after it). */
export function renderRecord(record: RunRecord): string {
  const gaps = record.units.flatMap((u) => (u.notProtected ?? []).map((g) => `  ${u.name}: ${g}`));
  const warned = [
    ...(record.warnings ?? []).map((w) => `  ${w}`),
    ...record.units.flatMap((u) => (u.warnings ?? []).map((w) => `  ${u.name}: ${w}`)),
  ];
  const table = renderTable(UNIT_ROW_HEADER, [
    ...record.units.map(unitRow),
    ...healRows(record),
    ...maintenanceRows(record),
    ...replicaRows(record),
  ]);
  return [
    table,
    ...(gaps.length ? ["Not backed up (no host path holds this data while stopped):", ...gaps] : []),
    ...(warned.length ? ["Warnings:", ...warned] : []),
  ].join("\n");
}

/**
 * A container down that no unit covers (the heal at the run's start, or the signal path, could not
 * start it), as a unit-shaped row: `container NAME`, `NOT RUNNING`, docker's reason.
 */
function healRows(r: RunRecord): string[][] {
  return (r.restartFailed ?? []).map((name) => {
    const e = r.errors.find((x) => x.phase === "start" && x.item === name);
    return [`container ${name}`, "NOT RUNNING", "-", "-", "-", "-", "-", e?.message.split("\n")[0] ?? ""];
  });
}

/**
 * kopia maintenance after the units, as a unit-shaped row: `maintenance full`, its status, time, and
 * why or how long its check took. Quick maintenance runs nearly every night: a row only when it failed.
 */
function maintenanceRows(r: RunRecord): string[][] {
  return (r.maintenance ?? [])
    .filter((m) => m.kind === "full" || m.status !== "ok")
    .map((m) => [
      `maintenance ${m.kind}`,
      m.status,
      "-",
      "-",
      "-",
      "-",
      formatDuration(m.durationMs),
      m.reason?.split("\n")[0] ?? (m.checkMs !== undefined ? `check ${formatDuration(m.checkMs)}` : ""),
    ]);
}

/** One maintenance step in full (`history --id`): kind, status, time, the check's share, why. */
export function maintenanceLine(m: NonNullable<RunRecord["maintenance"]>[number]): string {
  const check = m.checkMs !== undefined ? ` (check ${formatDuration(m.checkMs)})` : "";
  return `maintenance ${m.kind}: ${m.status}, ${formatDuration(m.durationMs)}${check}${m.reason ? `: ${m.reason}` : ""}`;
}

/** A replica synced after the run, as a unit-shaped row: `replica NAME`, ok/failed, time, error. */
function replicaRows(r: RunRecord): string[][] {
  return (r.replicas ?? []).map((x) => [
    `replica ${x.name}`,
    x.status,
    "-",
    "-",
    "-",
    "-",
    formatDuration(x.durationMs),
    x.error ?? "",
  ]);
}

const indent = (text: string) =>
  text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");

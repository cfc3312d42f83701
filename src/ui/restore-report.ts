import { execCommandLine } from "../core/docker/docker.ts";
import { RESTORE_GUARDS } from "../core/dump/presets.ts";
import { formatBytes, renderTable } from "../core/format.ts";
import { type DumpStep, dumpTarget, type FeedCommand, feedCommand } from "../core/restore/dumps.ts";
import type { RestorePoint } from "../core/restore/points.ts";
import { runsUnhealthy } from "../core/restore/readiness.ts";
import type { RestoreResult } from "../core/restore/result.ts";
import type { RestorePlan } from "../core/restore/types.ts";

/** One line per restore point, for tables and wizard options. */
export function pointLabel(p: RestorePoint): string {
  const state = p.complete ? "complete" : "INCOMPLETE";
  return `${p.timestamp.replace("T", " ").replace(/\.\d+Z$|Z$/, "")}  ${p.unit}  ${formatBytes(p.sizeBytes)}  ${p.scope}  ${state}`;
}

/** The `snapshots` table: restore points, then undo points. */
export function renderPoints(points: RestorePoint[], undo: RestorePoint[]): string {
  if (points.length + undo.length === 0) return "no restore points";
  const row = (p: RestorePoint) => [
    p.timestamp,
    p.unit,
    p.host,
    p.runId,
    p.backupId,
    formatBytes(p.sizeBytes),
    p.scope,
    p.phase ? "undo" : p.complete ? "yes" : "no",
    p.pins?.length ? p.pins.join(", ") : "",
  ];
  const header = ["TIME", "UNIT", "HOST", "RUN", "BACKUP", "SIZE", "SCOPE", "COMPLETE", "PINNED"];
  const out = [renderTable(header, points.map(row))];
  if (undo.length)
    out.push("", "Undo points (taken before a restore overwrote data):", renderTable(header, undo.map(row)));
  return out.join("\n");
}

/** The summary a person confirms: exactly what is overwritten, created, stopped and started. */
export function renderRestorePlan(plan: RestorePlan): string[] {
  const p = plan.point;
  const lines = [`Restore ${p.unit} from ${p.host}, backup of ${p.timestamp} (run ${p.runId})`];
  if (plan.request.as) lines.push(`  as a side-by-side copy named ${plan.request.as}`);
  if (plan.unitType === "compose")
    lines.push(
      plan.override || plan.request.as || plan.request.targetDir
        ? `  into       ${plan.targetDir} (project directory; mounts pinned by the override below)`
        : `  into       ${plan.targetDir} (the project directory it was backed up from)`,
    );
  for (const c of plan.stop)
    lines.push(
      `  stop       container ${c.name} (${c.paused ? "paused: started again afterwards, then paused again" : "started again afterwards"})`,
    );
  for (const u of plan.undo) lines.push(`  undo point ${u.kind} ${u.name}`);
  for (const d of plan.dumps ?? [])
    if (d.undo)
      lines.push(
        `  undo point database in ${d.container} (${d.undo.dump.join(" ")}${d.undo.stopped ? ", started for it and stopped again" : ""})`,
      );
  for (const n of plan.networks)
    lines.push(`  ${n.action.padEnd(10)} network ${n.name}${n.note ? ` (${n.note})` : ""}`);
  for (const v of plan.volumes)
    lines.push(`  ${v.action.padEnd(10)} volume ${v.name} (${formatBytes(v.sizeBytes)}, ${v.files} files)`);
  for (const b of plan.binds)
    lines.push(
      `  ${b.action.padEnd(10)} bind mount ${b.path}${b.kind === "file" ? " (a single file" : ` (${b.files} files`}, ${formatBytes(b.sizeBytes)})`,
    );
  for (const f of plan.files)
    if (f.action !== "same")
      lines.push(
        `  ${f.action.padEnd(10)} file ${f.to}${f.projectName ? ` (naming compose project ${f.projectName.name})` : ""}${f.action === "overwrite" ? " (old one kept as .bak)" : ""}`,
      );
  if (plan.override) {
    lines.push(`  write      file ${plan.override.path} (pins these mounts to the restored data):`);
    for (const b of plan.override.binds)
      lines.push(
        `               ${b.service}: ${b.source} -> ${b.target}${b.readOnly ? " (read-only)" : ""}`,
      );
    for (const v of plan.override.volumes ?? [])
      lines.push(
        `               ${v.service}: volume ${v.name} -> ${v.target} (anonymous at the backup)${v.readOnly ? " (read-only)" : ""}`,
      );
    for (const r of plan.override.renamed ?? [])
      lines.push(
        `               ${r.kind} ${r.key}: ${r.to}${r.external ? " (external)" : ""}, not the original's ${r.from}`,
      );
  }
  if (plan.start?.kind === "compose")
    lines.push(
      `  start      compose project ${plan.start.project} in ${plan.start.cwd} (-f ${plan.start.files.join(" -f ")})${plan.start.first ? `: ${plan.start.first.join(", ")} first, the rest once the dumps are fed` : ""}`,
    );
  if (plan.start?.kind === "run") for (const c of plan.start.containers) lines.push(startLine(c));
  for (const d of plan.dumps ?? []) lines.push(...dumpLines(d));
  if (plan.hooks.pre) lines.push(`  hook       ${plan.hooks.pre} (pre_restore)`);
  if (plan.hooks.post) lines.push(`  hook       ${plan.hooks.post} (post_restore)`);
  for (const m of plan.missing)
    lines.push(`  missing    ${m}: the backup protected it, this point has no snapshot of it`);
  for (const w of plan.warnings) lines.push(`  warning: ${w}`);
  for (const r of plan.refusals) lines.push(`  REFUSED: ${r}`);
  return lines;
}

export function renderResult(r: RestoreResult): string[] {
  const lines = [
    `restore ${r.runId} done: ${r.volumes.length} volume(s), ${r.binds.length} bind mount(s), ${r.files.length} file(s)`,
  ];
  if (r.started.length) lines.push(`started: ${r.started.join(", ")}`);
  if (r.backups.length) lines.push(`previous files kept: ${r.backups.join(", ")}`);
  if (r.pausedAgain?.length) lines.push(`paused again, as before the restore: ${r.pausedAgain.join(", ")}`);
  if (r.undoPoint) lines.push(`undo point: ${r.undoPoint}`);
  if (r.held?.length) lines.push(`HELD (fewer files came back, not started): ${r.held.join(", ")}`);
  for (const n of r.heldNext ?? []) lines.push(`  ${n}`);
  const down = r.notRunning ?? [];
  const failed = (r.restartFailed ?? []).filter((n) => !down.some((x) => x.name === n));
  if (failed.length) lines.push(`NOT RUNNING (start failed): ${failed.join(", ")}`);
  for (const n of down)
    lines.push(
      `${runsUnhealthy(n) ? "NOT HEALTHY" : "NOT RUNNING"}: ${n.name} (${n.state}): ${n.reason}; ${n.next}`,
    );
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines;
}

/** A standalone container `--start` runs, or the one that exists already. */
function startLine(c: { name: string; exists?: "running" | "stopped" | "held" | "settles" }): string {
  if (c.exists === "stopped")
    return `  start      ${c.name} (exists, stopped): docker start, once its data is restored`;
  if (c.exists === "settles")
    return `  start      ${c.name} (exists, held): docker start, once this restore has made its data whole`;
  if (c.exists === "held")
    return `  keep       ${c.name} (exists, stopped): held by a restore that did not finish`;
  if (c.exists === "running") return `  keep       ${c.name} (exists, runs): not recreated`;
  return `  start      docker run ${c.name}`;
}

/**
 * A dump's feed as the command that runs it (`feedCommand`, `execArgs`: what the feed itself runs),
 * and for a preset that connects elsewhere when its usual database is missing, that command too.
 */
function dumpLines(d: DumpStep): string[] {
  const container = d.service ? `<${d.service.name} container>` : d.container;
  const shown = (c: FeedCommand) =>
    execCommandLine(container, c.argv, { ...(c.env ? { env: c.env } : {}), stdin: true });
  const lines = [
    `  dump       into ${dumpTarget(d)}${d.service ? " (its container found by the compose labels when fed)" : ""}: kopia show ${d.object} | ${shown(feedCommand(d))} (${formatBytes(d.sizeBytes)})`,
  ];
  const missing = d.preset ? RESTORE_GUARDS[d.preset]?.missingDatabase : undefined;
  if (missing)
    lines.push(
      `               if the database ${missing.name} is missing then: ${shown(feedCommand(d, true))}, which makes it first`,
    );
  return lines;
}

import { SWARM_TASK_LABEL } from "../core/backup/swarm.ts";
import type { Discovery, Unit } from "../core/discovery/model.ts";
import { formatBytes, renderTable } from "../core/format.ts";

const sized = (n: number | undefined, truncated?: boolean) =>
  n === undefined ? "" : ` ${truncated ? "≥" : ""}${formatBytes(n)}`;

function total(items: { sizeBytes?: number; sizeTruncated?: boolean }[]): string {
  if (items.length === 0 || items.every((i) => i.sizeBytes === undefined)) return "";
  const bytes = items.reduce((s, i) => s + (i.sizeBytes ?? 0), 0);
  return ` (${sized(
    bytes,
    items.some((i) => i.sizeTruncated),
  ).trim()})`;
}

function status(u: Unit): string {
  const gaps = u.skipped.filter((s) => s.notProtected).length;
  const out = u.skipped.length - gaps;
  const parts = [gaps ? `${gaps} NOT PROTECTED` : "", out ? `${out} item(s) left out` : ""];
  return parts.filter(Boolean).join(", ") || "ok";
}

function row(u: Unit): string[] {
  const running = u.containers.filter((c) => c.running).length;
  const stopped = u.containers.filter((c) => !c.running).map((c) => c.name);
  return [
    u.name,
    u.type,
    u.mode,
    `${running}/${u.containers.length}${stopped.length ? ` (stopped: ${stopped.join(", ")})` : ""}`,
    `${u.volumes.length}${total(u.volumes)}`,
    `${u.bindMounts.length}${total(u.bindMounts)}`,
    String(u.networks.length),
    u.excluded ? "excluded" : status(u),
  ];
}

/** Per-unit detail lines: what is backed up and what is left out, and why. */
function details(u: Unit): string[] {
  const lines = [`${u.name} (${u.type})${u.excluded ? ` — excluded: ${u.excluded}` : ""}`];
  for (const c of u.containers) {
    const notes = [c.running ? c.state : `${c.state}, stopped`, c.database, c.stop ? "" : "not stopped"];
    // A cold backup refuses such a unit (backup/refusals.ts): `list` shows why ahead of a run.
    if (c.autoRemove) notes.push("started with --rm: a backup never stops it");
    if (c.labels[SWARM_TASK_LABEL]) notes.push("a Docker Swarm task: a backup never stops it");
    if (c.imageLabels?.length) {
      const from = c.imageUnknown ? "image not inspectable, so perhaps from it" : "from the image";
      notes.push(`${from}: ${c.imageLabels.map((l) => `${l}=${c.labels[l]}`).join(" ")}`);
    }
    lines.push(`  container  ${c.name}  ${c.image}  [${notes.filter(Boolean).join(", ")}]`);
    for (const note of c.ignoredLabels ?? []) lines.push(`    ${note}`);
  }
  for (const v of u.volumes) {
    const where = v.notProtected ? " (NOT PROTECTED)" : v.dataPath ? ` (bind of ${v.dataPath})` : "";
    lines.push(`  volume     ${v.name}${where}${sized(v.sizeBytes, v.sizeTruncated)}`);
  }
  for (const b of u.bindMounts) {
    const ro = b.readOnly ? ", read-only" : "";
    lines.push(`  bind       ${b.source} (${b.kind}${ro})${sized(b.sizeBytes, b.sizeTruncated)}`);
  }
  for (const n of u.networks) lines.push(`  network    ${n.name} (${n.driver})`);
  for (const f of u.composeFiles.filter((x) => x.found)) lines.push(`  compose    ${f.hostPath}`);
  for (const s of u.skipped) lines.push(`  left out   ${s.kind} ${s.id}: ${s.reason}`);
  return lines;
}

/** The human `list` output: one table row per unit, then the details of each. */
export function renderDiscovery(d: Discovery): string {
  if (d.units.length === 0) return "No containers to back up on this host.";
  const header = ["UNIT", "TYPE", "MODE", "RUNNING", "VOLUMES", "BINDS", "NETWORKS", "STATUS"];
  const table = renderTable(header, d.units.map(row));
  return [table, "", ...d.units.flatMap((u) => [...details(u), ""])].join("\n").trimEnd();
}

import type { Unit } from "../discovery/model.ts";
import type { UnitPlan } from "./plan-model.ts";

export interface CoverageItem {
  kind: string;
  id: string;
  status: "protected" | "not_protected";
  detail: string;
}

/** What the unit's backup protects and what it does not, and why (coverage.json in the recipe). */
export function coverage(
  unit: Unit,
  plan: UnitPlan,
  composeFiles: readonly { labelPath: string; stored: string | null }[],
) {
  const items: CoverageItem[] = [
    ...plan.sources.map((s) => ({
      kind: s.type,
      id: s.label,
      status: "protected" as const,
      detail: s.reason,
    })),
    ...plan.skipped.map((s) => ({
      kind: s.kind,
      id: s.id,
      status: "not_protected" as const,
      detail: s.reason,
    })),
    ...composeFiles
      .filter((f) => f.stored === null)
      .map((f) => ({
        kind: "compose_file",
        id: f.labelPath,
        status: "not_protected" as const,
        detail: "not found on this host",
      })),
  ];
  for (const c of unit.containers) {
    for (const m of c.mounts.filter((x) => x.type === "tmpfs")) {
      items.push({
        kind: "tmpfs",
        id: `${c.name}:${m.destination}`,
        status: "not_protected",
        detail: "tmpfs is memory only",
      });
    }
  }
  const gaps = items.filter((i) => i.status === "not_protected").length;
  return {
    unit: unit.name,
    backup_id: plan.backupId,
    summary: { total: items.length, protected: items.length - gaps, not_protected: gaps },
    has_gaps: gaps > 0,
    items,
  };
}

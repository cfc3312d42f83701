import type { UnitAge } from "../core/alerts/freshness.ts";
import type { SendResult } from "../core/alerts/send.ts";
import { formatDuration, renderTable } from "../core/format.ts";

/** `check-freshness`: one row per unit, its last good backup against its limit. */
export function renderFreshness(v: { units: UnitAge[]; alerted: string[] }): string {
  return renderTable(
    ["UNIT", "LAST SUCCESS", "AGE", "LIMIT", "STATUS"],
    v.units.map((a) => [
      a.unit,
      a.lastSuccess ?? "never",
      formatDuration(a.ageMs),
      a.maxAgeHours > 0 ? `${a.maxAgeHours}h` : "off",
      a.overdue ? (v.alerted.includes(a.unit) ? "OVERDUE (alerted now)" : "OVERDUE") : "ok",
    ]),
  );
}

/** `notify test`: one row per target. */
export function renderSendResults(results: readonly SendResult[]): string {
  return renderTable(
    ["TARGET", "RESULT", "TIME", "ERROR"],
    results.map((r) => [r.target, r.ok ? "delivered" : "FAILED", `${r.ms} ms`, r.error ?? ""]),
  );
}

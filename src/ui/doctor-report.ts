import type { DoctorReport } from "../core/doctor.ts";
import { renderTable } from "../core/format.ts";
import type { Rendered } from "./output.ts";

/** `doctor`: one row per check, then the hint of every check that is not ok. */
export function renderDoctor(r: DoctorReport): Rendered {
  return [
    renderTable(
      ["CHECK", "STATUS", "DETAIL"],
      r.checks.map((c) => [c.id, c.status, c.detail]),
    ),
    ...r.checks.filter((c) => c.hint && c.status !== "ok").map((c) => `  ${c.id}: ${c.hint}`),
  ];
}

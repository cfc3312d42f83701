import { expect, test } from "bun:test";
import type { ExpireResult } from "../../../src/core/restore-points/act.ts";
import { renderExpire } from "../../../src/ui/points-admin-report.ts";

const result = (dryRun: boolean, trusted: ExpireResult["trusted"]): ExpireResult => ({
  remove: [],
  kept: [],
  pinned: [],
  skipped: [],
  held: [],
  snapshotIds: [],
  dryRun,
  policyPending: [],
  trusted,
});

test("expire --trust-clock says which gaps it counts across and which clock set back it counts by its dates", () => {
  const gap = { runId: "rJ", from: "2026-01-01T03:00:00.000Z", to: "2026-02-10T03:00:00.000Z" };
  const back = {
    runId: "rB",
    from: "2026-12-04T03:00:00.000Z",
    to: "2026-11-05T03:00:00.000Z",
    upMs: 1,
    back: true as const,
  };
  expect(renderExpire(result(false, [gap, back]))).toEqual([
    "nothing past retention: no restore point removed",
    "trusted the gap from 2026-01-01T03:00:00.000Z to 2026-02-10T03:00:00.000Z (run rJ) as time that passed: retention counts across it from now on",
    "took the clock set back at run rB (dated 2026-11-05T03:00:00.000Z, after 2026-12-04T03:00:00.000Z) as it is: retention counts by these dates from now on",
  ]);
  expect(renderExpire(result(true, [back]))).toContain(
    "would take the clock set back at run rB (dated 2026-11-05T03:00:00.000Z, after 2026-12-04T03:00:00.000Z) as it is: retention counts by these dates",
  );
});

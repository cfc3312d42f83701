import { expect, test } from "bun:test";
import { type Check, doctorError, doctorReport } from "../../../src/core/doctor.ts";

const check = (id: string, status: Check["status"]): Check => ({ id, status, detail: id });

test.each<{ statuses: Check["status"][]; healthy: boolean; error?: string }>([
  { statuses: [], healthy: true },
  { statuses: ["ok", "ok"], healthy: true },
  { statuses: ["ok", "warn"], healthy: true },
  { statuses: ["fail", "warn", "ok"], healthy: false, error: "1 check(s) failed: c0" },
  { statuses: ["fail", "ok", "fail"], healthy: false, error: "2 check(s) failed: c0, c2" },
])("checks $statuses: healthy $healthy", ({ statuses, healthy, error }) => {
  const report = doctorReport(statuses.map((s, i) => check(`c${i}`, s)));
  expect(report.healthy).toBe(healthy);
  const e = doctorError(report);
  expect(e?.message).toBe(error);
  if (e) expect(e.code).toBe("check_failed");
});

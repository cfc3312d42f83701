import { describe, expect, test } from "bun:test";
import type { RunRecord } from "../../../src/core/backup/result.ts";
import { parseRunRecord } from "../../../src/core/backup/run-record-schema.ts";
import { renderHistory, renderRecord } from "../../../src/ui/backup-report.ts";
import { renderRunDetail } from "../../../src/ui/history-report.ts";

const record: RunRecord = {
  runId: "r1",
  version: "9.9.9",
  hostname: "h",
  scope: "standard",
  startedAt: "2026-01-01T02:00:00.000Z",
  finishedAt: "2026-01-01T02:30:00.000Z",
  durationMs: 1_800_000,
  status: "ok",
  units: [],
  errors: [],
  maintenance: [
    { kind: "quick", status: "ok", startedAt: "2026-01-01T02:05:00.000Z", durationMs: 2_000 },
    {
      kind: "full",
      status: "ok",
      startedAt: "2026-01-01T02:05:02.000Z",
      durationMs: 1_500_000,
      checkMs: 300_000,
    },
  ],
};

describe("full maintenance in the run record, `history` and the end of a run", () => {
  test("a record with maintenance reads back as written; a status no version writes is no record", () => {
    expect(parseRunRecord(JSON.stringify(record))).toEqual({ record });
    const odd = { ...record, maintenance: [{ ...record.maintenance?.[1], status: "maybe" }] };
    expect(parseRunRecord(JSON.stringify(odd))).toMatchObject({
      why: expect.stringContaining("maintenance"),
    });
  });

  test("history and the run's report: a row for full maintenance with its time and its check's, none for a quick one that went well", () => {
    for (const text of [renderHistory([record]), renderRecord(record)]) {
      expect(text).toMatch(/maintenance full\s+ok\s+-\s+-\s+-\s+-\s+25m 0s\s+check 5m 0s/);
      expect(text).not.toContain("maintenance quick");
    }
  });

  test("history --id: each step, how long, the check's share, and why one was not run", () => {
    const refused: RunRecord = {
      ...record,
      maintenance: [
        {
          kind: "full",
          status: "refused",
          startedAt: "2026-01-01T02:05:02.000Z",
          durationMs: 4_000,
          reason: "the repository is damaged: …; full maintenance was not run",
        },
      ],
    };
    expect(renderRunDetail(record)).toContain("maintenance full: ok, 25m 0s (check 5m 0s)");
    expect(renderRunDetail(refused)).toContain(
      "maintenance full: refused, 4.0s: the repository is damaged: …; full maintenance was not run",
    );
    expect(renderHistory([refused])).toContain("maintenance full");
  });
});

describe("a replica copied after the run, in `history` and the end of a run", () => {
  test("a replica's row: its time in the TIME column and its error in the last, as a unit's", () => {
    const copied: RunRecord = {
      ...record,
      maintenance: [],
      replicas: [
        { name: "offsite", location: "s3://b", status: "failed", durationMs: 4_000, error: "no route" },
      ],
    };
    for (const text of [renderHistory([copied]), renderRecord(copied)])
      expect(text).toMatch(/replica offsite\s+failed\s+-\s+-\s+-\s+-\s+4\.0s\s+no route/);
  });
});

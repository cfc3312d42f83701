import { describe, expect, test } from "bun:test";
import { healOf, withHeal } from "../../../../src/core/backup/heal.ts";
import {
  interruptedRunRecord,
  markInterrupted,
  type RunSoFar,
} from "../../../../src/core/backup/interrupted.ts";
import { planBackup } from "../../../../src/core/backup/plan.ts";
import type { RunRecord, UnitResult } from "../../../../src/core/backup/result.ts";
import { emptyRunRow } from "../../../../src/ui/backup-report.ts";
import { config, discovery, planOpts, stackUnit } from "./fixtures.ts";

const T0 = new Date("2025-03-01T10:00:00Z");
const T1 = new Date("2025-03-01T10:00:07Z");

const unitResult = (name: string, over: Partial<UnitResult> = {}): UnitResult => ({
  name,
  backupId: `b-${name}`,
  timestamp: T0.toISOString(),
  status: "ok",
  sources: [],
  stopped: [],
  restartFailed: [],
  errors: [],
  durationMs: 5,
  ...over,
});

const soFar = (over: Partial<RunSoFar> = {}): RunSoFar => ({
  runId: "RUN",
  version: "9.9.9",
  hostname: "h",
  scope: "standard",
  startedAt: T0,
  done: [],
  errors: [],
  ...over,
});

/** A finished run of `units` from T0 to T1 (it carries an old `interrupted` error, to be replaced). */
const record = (units: UnitResult[]): RunRecord => ({
  runId: "RUN",
  version: "9.9.9",
  hostname: "h",
  scope: "standard",
  startedAt: T0.toISOString(),
  finishedAt: T1.toISOString(),
  durationMs: 7000,
  status: "ok",
  units,
  errors: [{ phase: "interrupted", message: "old" }],
});

describe("interruptedRunRecord", () => {
  test("before planning: no units, status failed, the signal named", () => {
    const r = interruptedRunRecord(soFar(), "SIGTERM", T1);
    expect(r).toEqual({
      ...record([]),
      status: "failed",
      errors: [{ phase: "interrupted", message: "run interrupted by SIGTERM" }],
      interrupted: "SIGTERM",
    });
    // history still shows such a run: one row with the signal, not nothing
    expect(emptyRunRow(r)).toEqual([
      "-",
      "failed",
      "0/0",
      "-",
      "-",
      "-",
      "7.0s",
      "interrupted by SIGTERM before any unit",
    ]);
    // The run's number, taken at its start, stays used in its record (`run-sequence.ts`).
    expect(interruptedRunRecord(soFar({ sequence: 42 }), "SIGTERM", T1).sequence).toBe(42);
  });

  test("finished units kept as they were; planned ones not finished listed as skipped with the signal", () => {
    const plan = planBackup(config(), discovery(stackUnit("shop"), stackUnit("blog")), T0, planOpts);
    const [first, second] = plan.units.map((u) => u.name) as [string, string];
    const r = interruptedRunRecord(
      soFar({
        plan,
        done: [unitResult(first)],
        errors: [{ phase: "policy", message: "p" }],
      }),
      "SIGINT",
      T1,
    );
    expect(r.status).toBe("failed");
    expect(r.interrupted).toBe("SIGINT");
    expect(r.units.map((u) => [u.name, u.status])).toEqual([
      [first, "ok"],
      [second, "skipped"],
    ]);
    expect(r.units[1]?.errors).toEqual([
      { phase: "interrupted", message: "interrupted by SIGINT before this unit finished" },
    ]);
    expect(r.units[1]?.backupId).toBe(plan.units[1]?.backupId as string);
    expect(r.errors.map((e) => e.phase)).toEqual(["policy", "interrupted"]);
  });
});

describe("interruptedRunRecord: the unit cut short in its cold window", () => {
  test("is failed, naming the containers it had stopped, not skipped as if never touched", () => {
    const plan = planBackup(config(), discovery(stackUnit("shop"), stackUnit("blog")), T0, planOpts);
    const [first, second] = plan.units.map((u) => u.name) as [string, string];
    const r = interruptedRunRecord(
      soFar({ plan, stopping: new Map([[first, ["shop_web_1", "shop_db_1"]]]) }),
      "SIGTERM",
      T1,
    );
    expect(r.units.map((u) => [u.name, u.status, u.stopped])).toEqual([
      [first, "failed", ["shop_web_1", "shop_db_1"]],
      [second, "skipped", []],
    ]);
    expect(r.units[0]?.errors[0]?.message).toBe(
      "interrupted by SIGTERM while its containers were stopped: this run's snapshots of it are no complete point",
    );
  });
});

describe("interruptedRunRecord: the unit cut short after its containers ran again", () => {
  test("says the signal came while kopia saved, not while they were stopped; still no complete point", () => {
    const plan = planBackup(config(), discovery(stackUnit("shop")), T0, planOpts);
    const [first] = plan.units.map((u) => u.name) as [string];
    const both = ["shop_web_1", "shop_db_1"];
    const cut = (again: string[]) =>
      interruptedRunRecord(
        soFar({ plan, stopping: new Map([[first, both]]), startedAgain: new Map([[first, again]]) }),
        "SIGTERM",
        T1,
      ).units[0];
    expect(cut(both)?.status).toBe("failed");
    expect(cut(both)?.errors[0]?.message).toBe(
      "interrupted by SIGTERM after its containers were started again, while kopia saved: this run's snapshots of it are no complete point",
    );
    // One of them still down when the signal came: the cold window had not ended.
    expect(cut(["shop_db_1"])?.errors[0]?.message).toContain("while its containers were stopped");
  });
});

describe("markInterrupted", () => {
  test("a run cut short is never ok, even if every unit it reached finished", () => {
    const r = markInterrupted(record([unitResult("a")]), "SIGHUP");
    expect(r.status).toBe("failed");
    expect(r.interrupted).toBe("SIGHUP");
    expect(r.errors).toEqual([{ phase: "interrupted", message: "run interrupted by SIGHUP" }]);
  });

  test("a container that could not be restarted stays the loudest status", () => {
    const r = markInterrupted(record([unitResult("a", { restartFailed: ["web"] })]), "SIGTERM");
    expect(r.status).toBe("restart_failed");
  });

  test("so is a container the heal at the run's start could not start, in either order", () => {
    const heal = healOf({
      started: [],
      skipped: [],
      held: [],
      failed: [{ name: "db", reason: "port taken" }],
    });
    expect(withHeal(interruptedRunRecord(soFar(), "SIGTERM", T1), heal).status).toBe("restart_failed");
    expect(markInterrupted(withHeal(record([unitResult("a")]), heal), "SIGTERM").status).toBe(
      "restart_failed",
    );
  });
});

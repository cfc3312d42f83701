import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigSchema } from "../../../../src/config/schema.ts";
import { missedEpisodes, unitAges } from "../../../../src/core/alerts/freshness.ts";
import { runMessage, wants } from "../../../../src/core/alerts/message.ts";
import { escapeLabel, renderMetrics } from "../../../../src/core/alerts/metrics.ts";
import { pingRequest } from "../../../../src/core/alerts/ping.ts";
import type { RunRecord, UnitResult } from "../../../../src/core/backup/result.ts";

const unit = (name: string, status: UnitResult["status"], extra: Partial<UnitResult> = {}): UnitResult => ({
  name,
  backupId: "b",
  timestamp: "t",
  status,
  sources: [
    {
      type: "volume",
      label: "v",
      status: status === "ok" ? "ok" : "failed",
      files: 3,
      bytes: 10,
      durationMs: 5,
    },
  ],
  stopped: [],
  restartFailed: [],
  errors: status === "ok" ? [] : [{ phase: "snapshot", message: "disk full", item: "v" }],
  durationMs: 1500,
  bytes: 10,
  coldWindowMs: 700,
  frozenWindowMs: 250,
  ...extra,
});
const record = (at: string, units: UnitResult[], status: RunRecord["status"] = "ok"): RunRecord => ({
  runId: at,
  version: "0",
  hostname: "h",
  scope: "standard",
  startedAt: at,
  finishedAt: at,
  durationMs: 2000,
  status,
  units,
  errors: [],
});

describe("textfile", () => {
  test("label values are escaped; per-unit values come from the unit's latest run", () => {
    const text = renderMetrics({
      records: [
        record("2026-01-01T00:00:00.000Z", [unit('we"ird\\name\n', "ok")]),
        record("2026-01-02T00:00:00.000Z", [unit('we"ird\\name\n', "failed")], "failed"),
      ],
      now: new Date("2026-01-02T00:01:00.000Z"),
      repositorySnapshots: 7,
    });
    expect(escapeLabel('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    expect(text).toContain('kopi_docka_last_run_status{unit="we\\"ird\\\\name\\n"} 1');
    expect(text).toContain(
      `kopi_docka_last_success_timestamp_seconds{unit="we\\"ird\\\\name\\n"} ${Date.parse("2026-01-01T00:00:00Z") / 1000}`,
    );
    expect(text).toContain("# TYPE kopi_docka_repository_snapshots gauge\nkopi_docka_repository_snapshots 7");
    expect(text).toContain('kopi_docka_units{status="failed"} 1');
    expect(text).toContain('kopi_docka_frozen_window_seconds{unit="we\\"ird\\\\name\\n"} 0.25');
  });

  test("after an OK run stamped a year ahead (a clock set ahead, since corrected), a failing run is the last run", () => {
    const good = record("2026-01-01T00:00:00.000Z", [unit("web", "ok")]);
    const ahead = { ...record("2027-01-02T00:00:00.000Z", [unit("web", "ok")]), runId: "zz-later" };
    const now = new Date("2026-01-02T00:00:05.000Z");
    const failed = record("2026-01-02T00:00:00.000Z", [unit("web", "failed")], "failed");
    const sec = (iso: string) => Date.parse(iso) / 1000;
    // As `readRunRecords` hands them over: by start, the one from the future last.
    const text = renderMetrics({ records: [good, failed, ahead], current: failed, now });
    expect(text).toContain('kopi_docka_last_run_status{unit="web"} 1');
    expect(text).toContain('kopi_docka_units{status="ok"} 0');
    expect(text).toContain('kopi_docka_units{status="failed"} 1');
    expect(text).toContain(`kopi_docka_run_timestamp_seconds ${sec(failed.finishedAt)}`);
    expect(text).toContain(`kopi_docka_last_success_timestamp_seconds{unit="web"} ${sec(good.finishedAt)}`);
    // A run that left no record (the repository did not open): the last one that is not ahead.
    const none = renderMetrics({ records: [good, ahead], now });
    expect(none).toContain(`kopi_docka_run_timestamp_seconds ${sec(good.finishedAt)}`);
    expect(none).toContain('kopi_docka_units{status="ok"} 1');
    // A few minutes ahead is a clock's drift: it counts.
    const drift = record("2026-01-02T00:03:00.000Z", [unit("web", "ok")]);
    const drifted = renderMetrics({ records: [good, drift], now });
    expect(drifted).toContain(
      `kopi_docka_last_success_timestamp_seconds{unit="web"} ${sec(drift.finishedAt)}`,
    );
  });
});

describe("missed backups", () => {
  const config = ConfigSchema.parse({ units: { slow: { max_age_hours: 100 } } });
  const records = [
    record("2026-01-01T00:00:00.000Z", [unit("a", "ok"), unit("slow", "ok"), unit("never", "failed")]),
  ];
  const now = new Date("2026-01-02T03:00:00.000Z"); // 27 h later

  test("older than the limit, per-unit override, never-successful units measured from first sight", () => {
    const ages = unitAges(records, config, now);
    expect(ages.map((a) => [a.unit, a.overdue, a.maxAgeHours])).toEqual([
      ["a", true, 26],
      ["never", true, 26],
      ["slow", false, 100],
    ]);
  });

  test("a success stamped ahead of now (a clock set wrong, since corrected) keeps no unit fresh", () => {
    const ahead = [...records, record("2026-06-01T00:00:00.000Z", [unit("a", "ok")])];
    const a = unitAges(ahead, config, now).find((x) => x.unit === "a");
    expect(a?.lastSuccess).toBe(records[0]?.finishedAt);
    expect(a?.overdue).toBe(true);
    // A few minutes ahead is a clock's drift, not a wrong clock: it counts.
    const drift = [...records, record("2026-01-02T03:04:00.000Z", [unit("a", "ok")])];
    expect(unitAges(drift, config, now).find((x) => x.unit === "a")?.overdue).toBe(false);
  });

  test("one alert per episode; a unit back in time starts a new episode next time", () => {
    const file = join(mkdtempSync(join(tmpdir(), "kd-missed-")), "missed.json");
    const first = missedEpisodes(unitAges(records, config, now), file, now);
    expect(first.fresh.map((a) => a.unit)).toEqual(["a", "never"]);
    first.commit(true);
    expect(missedEpisodes(unitAges(records, config, now), file, now).fresh).toEqual([]);
    const later = [...records, record("2026-01-02T02:00:00.000Z", [unit("a", "ok")])];
    missedEpisodes(unitAges(later, config, now), file, now).commit(true);
    expect(Object.keys(JSON.parse(readFileSync(file, "utf8")).alerted)).toEqual(["never"]);
  });

  test("a send that reached no target is tried again", () => {
    const file = join(mkdtempSync(join(tmpdir(), "kd-missed-")), "missed.json");
    missedEpisodes(unitAges(records, config, now), file, now).commit(false);
    expect(missedEpisodes(unitAges(records, config, now), file, now).fresh).toHaveLength(2);
  });
});

describe("messages and levels", () => {
  test("a restart failure is urgent and names the container and the next step", () => {
    const u = unit("web", "failed", {
      restartFailed: ["web-1"],
      errors: [{ phase: "start", message: "bind source missing", item: "web-1" }],
    });
    const m = runMessage(record("2026-01-01T00:00:00.000Z", [u], "restart_failed"), 4);
    expect(m.severity).toBe("urgent");
    expect(m.title).toContain("NOT running again: web-1");
    expect(m.body).toContain("next: start it now: docker start web-1");
    expect(wants("failure", m)).toBe(true);
  });

  test("an OK run reaches 'always' targets only", () => {
    const m = runMessage(record("2026-01-01T00:00:00.000Z", [unit("a", "ok")]), 0);
    expect([wants("always", m), wants("warning", m), wants("failure", m)]).toEqual([true, false, false]);
  });

  test("an OK run with a unit's warning (a dump far smaller than the last) reaches 'warning' targets, saying it", () => {
    const w = "the dump of db-1 is 10 B, under half the last one (1000 B): is data missing?";
    const m = runMessage(record("2026-01-01T00:00:00.000Z", [unit("a", "ok", { warnings: [w] })]), 0);
    expect(m.severity).toBe("warning");
    expect(wants("warning", m)).toBe(true);
    expect(m.body).toContain(`warning: a: ${w}`);
  });

  test("an OK run that left data NOT PROTECTED reaches 'warning' targets, naming it, and the metrics count it", () => {
    const gap = "volume app_nfs: NOT PROTECTED: its data is on an nfs mount";
    const r = record("2026-01-01T00:00:00.000Z", [unit("a", "ok", { notProtected: [gap] }), unit("b", "ok")]);
    const m = runMessage(r, 0);
    expect(m.severity).toBe("warning");
    expect(m.body).toContain(`warning: a: NOT backed up: ${gap}`);
    const text = renderMetrics({ records: [r], now: new Date("2026-01-01T00:01:00.000Z") });
    expect(text).toContain('kopi_docka_unprotected_items{unit="a"} 1');
    expect(text).toContain('kopi_docka_unprotected_items{unit="b"} 0');
  });
});

describe("heartbeat URLs", () => {
  const end = (exitCode: number) => ({ phase: "end" as const, exitCode, summary: "s" });
  test.each([
    ["healthchecks", { phase: "start" as const }, "https://hc/p/start"],
    ["healthchecks", end(0), "https://hc/p"],
    ["healthchecks", end(3), "https://hc/p/3"],
    ["fail", end(3), "https://hc/p/fail"],
    ["uptime-kuma", end(0), "https://hc/p?status=up&msg=s"],
    ["uptime-kuma", end(4), "https://hc/p?status=down&msg=s"],
  ] as const)("%s %o → %s", (style, at, url) => {
    expect(pingRequest("https://hc/p", style, at)?.url).toBe(url);
  });
  // Healthchecks' auto-provisioning form: the suffix goes on the path, the query stays a query.
  test.each([
    [{ phase: "start" as const }, "https://hc/k/srv01/start?create=1"],
    [end(0), "https://hc/k/srv01?create=1"],
    [end(3), "https://hc/k/srv01/3?create=1"],
  ] as const)("a query string stays after the suffix: %o → %s", (at, url) => {
    expect(pingRequest("https://hc/k/srv01?create=1", "healthchecks", at)?.url).toBe(url);
  });
  test("uptime-kuma has no start signal", () => {
    expect(pingRequest("https://hc/p", "uptime-kuma", { phase: "start" })).toBeUndefined();
  });
});

import { expect, test } from "bun:test";
import { type Retention, retentionReasons } from "../../../../src/core/restore-points/retention.ts";

const none: Retention = { latest: 0, hourly: 0, daily: 0, weekly: 0, monthly: 0, annual: 0 };

test("latest N: the N newest, whatever their times", () => {
  const times = [
    "2026-03-05T02:00:00Z",
    "2026-03-05T01:00:00Z",
    "2026-03-04T02:00:00Z",
    "2026-03-01T02:00:00Z",
  ];
  expect(retentionReasons(times, { ...none, latest: 3 })).toEqual([
    ["latest-1"],
    ["latest-2"],
    ["latest-3"],
    [],
  ]);
});

test("all zero keeps every point, as kopia's policy does", () => {
  expect(retentionReasons(["2026-03-05T02:00:00Z", "2020-01-01T00:00:00Z"], none)).toEqual([
    ["latest-1"],
    ["latest-2"],
  ]);
});

test("daily: the newest point of each UTC day, within the cutoff counted back from the newest point", () => {
  const times = [
    "2026-03-05T23:00:00Z",
    "2026-03-05T02:00:00Z", // same day, older: no daily slot
    "2026-03-04T00:30:00Z",
    "2026-03-03T23:59:59Z",
    "2026-02-20T02:00:00Z", // past the 7-day cutoff
  ];
  expect(retentionReasons(times, { ...none, daily: 7 })).toEqual([
    ["daily-1"],
    [],
    ["daily-2"],
    ["daily-3"],
    [],
  ]);
  // Slots run out before the cutoff does.
  expect(retentionReasons(times, { ...none, daily: 2 }).map((r) => r.length)).toEqual([1, 0, 1, 0, 0]);
});

test("kinds combine in kopia's order and naming; hourly, monthly and annual buckets", () => {
  const times = [
    "2026-03-05T02:30:00Z",
    "2026-03-05T02:10:00Z",
    "2026-03-05T01:10:00Z",
    "2025-12-31T23:00:00Z",
  ];
  expect(retentionReasons(times, { ...none, latest: 1, hourly: 24, monthly: 12, annual: 3 })).toEqual([
    ["latest-1", "annual-1", "monthly-1", "hourly-1"],
    [],
    ["hourly-2"],
    ["annual-2", "monthly-2"],
  ]);
});

test("weekly: ISO weeks (Monday first; the week of Thursday 1 January 2026 began on Monday 29 December)", () => {
  const times = [
    "2026-01-01T12:00:00Z",
    "2025-12-29T01:00:00Z",
    "2025-12-28T23:00:00Z",
    "2025-12-22T00:00:00Z",
  ];
  expect(retentionReasons(times, { ...none, weekly: 4 })).toEqual([["weekly-1"], [], ["weekly-2"], []]);
});

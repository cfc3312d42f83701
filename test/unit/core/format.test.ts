import { expect, test } from "bun:test";
import { formatBytes, formatDuration } from "../../../src/core/format.ts";

test.each([
  [0, "0 B"],
  [1023, "1023 B"],
  [1536, "1.5 KiB"],
  [5 * 1024 ** 3, "5.0 GiB"],
])("formatBytes(%p) = %p", (n, text) => expect(formatBytes(n)).toBe(text));

test.each([
  [2_500, "2.5s"],
  [12_300, "12s"],
  [83_000, "1m 23s"],
  [3 * 3_600_000 + 5 * 60_000, "3h 5m"],
  [47 * 3_600_000, "47h 0m"],
  // A unit's backup age (alerts, check-freshness, doctor) is told in days past two of them.
  [3 * 86_400_000 + 4 * 3_600_000, "3d 4h"],
])("formatDuration(%p) = %p", (ms, text) => expect(formatDuration(ms)).toBe(text));

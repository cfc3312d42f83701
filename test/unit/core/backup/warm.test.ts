import { expect, test } from "bun:test";
import { warmUnusable } from "../../../../src/core/backup/warm.ts";

const manifest = (maxTime: string, incomplete?: string) => ({
  id: "m",
  source: { host: "h", userName: "u", path: "/p" },
  startTime: "2026-12-01T10:00:00Z",
  ...(incomplete ? { incomplete } : {}),
  rootEntry: { summ: { maxTime } },
});
const start = Date.parse("2026-12-01T10:00:00Z");

test("a warm snapshot is a base only when canceled and every mtime is 2 s or more before its start", () => {
  // biome-ignore lint/suspicious/noExplicitAny: only the fields warmUnusable reads
  const w = (m: any) => warmUnusable(m, start);
  expect(w(manifest("2026-12-01T09:59:57.999Z", "canceled"))).toBeUndefined();
  expect(w(manifest("2026-12-01T09:59:58.000Z", "canceled"))).toBe("files changed while it read them");
  expect(w(manifest("2026-12-01T10:00:05Z", "canceled"))).toBe("files changed while it read them");
  expect(w(manifest("2026-12-01T09:00:00Z"))).toBe("saved complete");
  expect(w(manifest("2026-12-01T09:00:00Z", "checkpoint"))).toBe("saved incomplete (checkpoint)");
  expect(w(manifest("", "canceled"))).toBe("no newest mtime recorded");
});

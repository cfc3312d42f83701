import { expect, test } from "bun:test";
import { silentLogger } from "../../../src/core/log.ts";
import { createRestoreProgress, restoreProgressLine } from "../../../src/ui/restore-progress.ts";

const MiB = 1024 * 1024;
const so = (processedBytes: number, processedFiles: number, totalBytes = 0, totalFiles = 0) => ({
  processedBytes,
  processedFiles,
  totalBytes,
  totalFiles,
});

test("the line: bytes and files against the larger of kopia's count and the snapshot's size, elapsed", () => {
  const expected = { sizeBytes: 200 * MiB, files: 3000 };
  expect(restoreProgressLine("volume db", undefined, 300, expected)).toBe("volume db: starting, 0.3s");
  expect(restoreProgressLine("volume db", so(120 * MiB, 1200, 150 * MiB, 1500), 4200, expected)).toBe(
    "volume db: 120.0 MiB of 200.0 MiB (60%), 1200 of 3000 files, 4.2s",
  );
  expect(restoreProgressLine("bind /srv", so(10, 1), 1000, { sizeBytes: 0, files: 0 })).toBe(
    "bind /srv: 10 B of 10 B (100%), 1 of 1 files, 1.0s",
  );
  expect(restoreProgressLine("volume db", so(199 * MiB, 2999), 5000, expected, true)).toBe(
    "volume db: 200.0 MiB in 3000 files restored, 5.0s",
  );
  expect(restoreProgressLine("bind /srv", so(0, 0), 1000, { sizeBytes: 0, files: 0 })).toBe(
    "bind /srv: 0 files, 1.0s",
  );
});

test("on a terminal: one line redrawn in place, left standing; failed says so", () => {
  const writes: string[] = [];
  let t = 0;
  const bar = createRestoreProgress({
    log: Object.assign(silentLogger(), { level: 3 }),
    out: { isTTY: true, columns: 200, write: (s: string) => writes.push(s) },
    now: () => t,
  })("volume db", { sizeBytes: 100, files: 2 });
  t = 1000;
  bar.update(so(50, 1, 100, 2));
  bar.finish("failed");
  bar.update(so(100, 2, 100, 2));
  expect(writes).toEqual([
    "\r\x1b[2Kvolume db: starting, 0.0s",
    "\r\x1b[2Kvolume db: 50 B of 100 B (50%), 1 of 2 files, 1.0s",
    "\r\x1b[2Kvolume db: 50 B of 100 B (50%), 1 of 2 files, 1.0s — failed\n",
  ]);
});

test("without a terminal: a plain log line at most every plainEveryMs; nothing drawn", () => {
  const lines: string[] = [];
  const log = Object.assign(silentLogger(), { level: 3 });
  log.info = ((m: string) => {
    lines.push(m);
  }) as unknown as typeof log.info;
  let t = 0;
  const writes: string[] = [];
  const bar = createRestoreProgress({
    log,
    out: { isTTY: false, write: (s: string) => writes.push(s) },
    plainEveryMs: 10_000,
    now: () => t,
  })("volume db", { sizeBytes: 100, files: 2 });
  t = 5_000;
  bar.update(so(10, 1));
  t = 12_000;
  bar.update(so(60, 1));
  bar.finish("ok");
  expect(lines).toEqual(["volume db: 60 B of 100 B (60%), 1 of 2 files, 12s"]);
  expect(writes).toEqual([]);
});

test("--verbose on a terminal: plain log lines, as for backups (debug lines would break a redrawn one)", () => {
  const lines: string[] = [];
  const log = Object.assign(silentLogger(), { level: 4 });
  log.info = ((m: string) => {
    lines.push(m);
  }) as unknown as typeof log.info;
  const writes: string[] = [];
  let t = 0;
  const bar = createRestoreProgress({
    log,
    out: { isTTY: true, columns: 200, write: (s: string) => writes.push(s) },
    plainEveryMs: 1_000,
    now: () => t,
  })("volume db", { sizeBytes: 100, files: 2 });
  expect(bar.standing).toBe(false);
  t = 2_000;
  bar.update(so(50, 1, 100, 2));
  expect(lines).toEqual(["volume db: 50 B of 100 B (50%), 1 of 2 files, 2.0s"]);
  expect(writes).toEqual([]);
});

import { describe, expect, test } from "bun:test";
import {
  afterRestoreRedraw,
  parseKopiaBytes,
  parseRestoredSummary,
  parseRestoreProgress,
  parseSnapshotProgress,
} from "../../../../src/core/kopia/progress.ts";

// Lines as kopia v0.23.1 printed them on this machine (`snapshot create|restore --progress`, stderr).
describe("kopia progress lines", () => {
  test.each<[string, number | undefined]>([
    ["0 B", 0],
    ["186 B", 186],
    ["65.5 KB", 65_500],
    ["30.3 MB", 30_300_000],
    ["1.2 GB", 1_200_000_000],
    ["1 KiB", 1024],
    ["1.5 MiB", 1_572_864],
    ["lots", undefined],
  ])("sizes: base 10 by default, base 2 with KOPIA_BYTES_STRING_BASE_2: %p → %p", (text, bytes) => {
    expect(parseKopiaBytes(text)).toBe(bytes);
  });

  test("snapshot create: while estimating", () => {
    const line = " / 1 hashing, 49 hashed (30.3 MB), 0 cached (0 B), uploaded 23.4 MB, estimating...";
    expect(parseSnapshotProgress(line)).toEqual({
      hashing: 1,
      hashedFiles: 49,
      hashedBytes: 30_300_000,
      cachedFiles: 0,
      cachedBytes: 0,
      uploadedBytes: 23_400_000,
      fatalErrors: 0,
      ignoredErrors: 0,
    });
  });

  test("snapshot create: errors, estimate and percent; trailing wipe spaces", () => {
    const line =
      " \\ 2 hashing, 10 hashed (1.5 GB), 50 cached (64.9 MB), uploaded 1.1 GB (3 fatal errors) " +
      "(1 errors ignored), estimated 4 GB (39.1%) 12s left      ";
    expect(parseSnapshotProgress(line)).toEqual({
      hashing: 2,
      hashedFiles: 10,
      hashedBytes: 1_500_000_000,
      cachedFiles: 50,
      cachedBytes: 64_900_000,
      uploadedBytes: 1_100_000_000,
      fatalErrors: 3,
      ignoredErrors: 1,
      estimatedBytes: 4_000_000_000,
      percent: 39.1,
    });
  });

  test.each([
    "Snapshotting root@vm:/tmp/src ...",
    ' ! Error when processing "a": permission denied',
    "Processed 51 (37.4 MB) of 51 (65 MB).",
  ])("snapshot create: other stderr lines are not progress: %p", (line) => {
    expect(parseSnapshotProgress(line)).toBeUndefined();
  });

  test("snapshot restore: plain, with skipped/errors and with speed and percent", () => {
    expect(parseRestoreProgress("Processed 51 (37.4 MB) of 51 (65 MB).")).toEqual({
      processedFiles: 51,
      processedBytes: 37_400_000,
      totalFiles: 51,
      totalBytes: 65_000_000,
      skippedFiles: 0,
      skippedBytes: 0,
      ignoredErrors: 0,
    });
    const line =
      "Processed 7 (10 MB) of 51 (65 MB), skipped 2 (1 KB), ignored 1 errors 20 MB/s (15.4%) remaining 3s.  ";
    expect(parseRestoreProgress(line)).toMatchObject({
      processedFiles: 7,
      skippedFiles: 2,
      skippedBytes: 1000,
      ignoredErrors: 1,
      percent: 15.4,
    });
    expect(parseRestoreProgress("Restored 51 files, 1 directories and 0 symbolic links (65 MB).")).toBe(
      undefined,
    );
  });
});

describe("a restore's other lines", () => {
  test("the closing line's counts; any other line is none", () => {
    expect(parseRestoredSummary("Restored 6 files, 2 directories and 0 symbolic links (52.4 MB).")).toEqual({
      files: 6,
      directories: 2,
      symlinks: 0,
    });
    expect(parseRestoredSummary("Restored 1 file, 1 directory and 1 symbolic link (3 B).")).toEqual({
      files: 1,
      directories: 1,
      symlinks: 1,
    });
    expect(parseRestoredSummary("Restoring to local filesystem (/t) with parallelism=8...")).toBeUndefined();
  });

  test("what follows a redraw on its line: kopia's error, else nothing", () => {
    expect(
      afterRestoreRedraw("Processed 5 (42 MB) of 7 (52.4 MB).error restoring: x: file name too long"),
    ).toBe("error restoring: x: file name too long");
    expect(afterRestoreRedraw("Processed 51 (37.4 MB) of 51 (65 MB).")).toBe("");
    expect(
      afterRestoreRedraw(
        "Processed 7 (10 MB) of 51 (65 MB), skipped 2 (1 KB), ignored 1 errors 20 MB/s (15.4%) remaining 3s.  ",
      ),
    ).toBe("");
  });
});

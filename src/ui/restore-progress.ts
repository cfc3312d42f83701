import { formatBytes, formatDuration } from "../core/format.ts";
import type { ContentProgress, RestoredSoFar } from "../core/restore/context.ts";
import { type ProgressOptions, progressLines } from "./progress-line.ts";

/**
 * "volume shop_db: 120.0 MiB of 200.0 MiB (60%), 1200 of 3000 files, 4.2s". The total is kopia's
 * count so far or the size the snapshot recorded, whichever is larger (kopia counts as it walks).
 */
export function restoreProgressLine(
  label: string,
  p: RestoredSoFar | undefined,
  elapsedMs: number,
  expected: { sizeBytes: number; files: number },
  finished = false,
): string {
  const time = formatDuration(elapsedMs);
  // kopia's last redraw lags and rounds; once it is done, the snapshot's own sizes are exact.
  if (finished)
    return `${label}: ${formatBytes(expected.sizeBytes)} in ${expected.files} files restored, ${time}`;
  if (!p) return `${label}: starting, ${time}`;
  const bytes = Math.max(p.totalBytes, expected.sizeBytes, p.processedBytes);
  const files = Math.max(p.totalFiles, expected.files, p.processedFiles);
  if (bytes === 0) return `${label}: ${p.processedFiles} files, ${time}`;
  const percent = Math.floor((p.processedBytes / bytes) * 100);
  return `${label}: ${formatBytes(p.processedBytes)} of ${formatBytes(bytes)} (${percent}%), ${p.processedFiles} of ${files} files, ${time}`;
}

/** Progress of the volumes and binds a restore writes, one line each (see `progressLines`). */
export function createRestoreProgress(o: ProgressOptions): ContentProgress {
  const lines = progressLines(o);
  return (label, expected) =>
    lines.item<RestoredSoFar>((last, elapsedMs, outcome) =>
      restoreProgressLine(label, last, elapsedMs, expected, outcome === "ok"),
    );
}

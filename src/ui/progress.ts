import type { ProgressReporter } from "../core/backup/progress.ts";
import { formatBytes, formatDuration } from "../core/format.ts";
import type { SnapshotProgress } from "../core/kopia/progress.ts";
import { type ProgressOptions, progressLines } from "./progress-line.ts";

/**
 * "app volume data: 3.0 MiB hashed (3 files), 2.0 KiB cached (2 files), 1.0 KiB uploaded, ~39%, 1.8s
 * (unit 5.2s)". The percentage is against the last snapshot's size, and only while below it.
 */
export function progressLine(
  label: string,
  p: SnapshotProgress | undefined,
  elapsedMs: number,
  unitElapsedMs: number,
  expectedBytes?: number,
): string {
  const time = `${formatDuration(elapsedMs)} (unit ${formatDuration(unitElapsedMs)})`;
  if (!p) return `${label}: starting, ${time}`;
  const parts = [
    `${formatBytes(p.hashedBytes)} hashed (${p.hashedFiles} files)`,
    `${formatBytes(p.cachedBytes)} cached (${p.cachedFiles} files)`,
    `${formatBytes(p.uploadedBytes)} uploaded`,
  ];
  const done = p.hashedBytes + p.cachedBytes;
  if (expectedBytes && done < expectedBytes) parts.push(`~${Math.floor((done / expectedBytes) * 100)}%`);
  if (p.fatalErrors > 0) parts.push(`${p.fatalErrors} errors`);
  return `${label}: ${parts.join(", ")}, ${time}`;
}

/**
 * Progress for backups: one line per source (see `progressLines` for where and how it shows); a
 * source that logged plain lines logs a closing one.
 */
export function createProgressReporter(o: ProgressOptions): ProgressReporter {
  const lines = progressLines(o);
  return {
    unit(name) {
      const unitStart = lines.now();
      return {
        // A finished source shows no percentage: kopia's rounded sizes may end just short of 100.
        source: (what, so = {}) =>
          lines.item<SnapshotProgress>(
            (last, elapsedMs, outcome) =>
              progressLine(
                `${name} ${what}`,
                last,
                elapsedMs,
                lines.now() - unitStart,
                outcome ? undefined : so.expectedBytes,
              ),
            true,
          ),
      };
    },
  };
}

/**
 * Pure parsers for the progress line kopia redraws on stderr with `--progress`. kopia has no
 * machine-readable progress on the CLI, so these read its human line (cli/cli_progress.go and
 * cli/restore_progress.go in v0.23.1). Byte counts are rounded by kopia ("65.5 MB"), so they are
 * approximate; the manifest holds the exact sizes.
 */

/** One redraw of `snapshot create --progress`. */
export interface SnapshotProgress {
  /** Files being hashed right now. */
  hashing: number;
  hashedFiles: number;
  hashedBytes: number;
  /** Files unchanged since the previous snapshot of the source (not read again). */
  cachedFiles: number;
  cachedBytes: number;
  uploadedBytes: number;
  fatalErrors: number;
  ignoredErrors: number;
  /**
   * kopia's size estimate and percentage, once it has them. kopi-docka runs kopia with the "rough"
   * estimator (the whole filesystem's usage), so for a docker volume these are not the source's.
   */
  estimatedBytes?: number;
  percent?: number;
}

/** One redraw of `snapshot restore --progress`. */
export interface RestoreProgress {
  processedFiles: number;
  processedBytes: number;
  totalFiles: number;
  totalBytes: number;
  skippedFiles: number;
  skippedBytes: number;
  ignoredErrors: number;
  percent?: number;
}

const UNIT_POWER: Record<string, number> = { "": 0, K: 1, M: 2, G: 3, T: 4, P: 5, E: 6 };
const BYTES = String.raw`(\d+(?:\.\d+)?) ([KMGTPE]?i?)B`;

/** "65.5 MB" → 65_500_000; "1 KiB" → 1024 (with KOPIA_BYTES_STRING_BASE_2). Undefined if not a size. */
export function parseKopiaBytes(text: string): number | undefined {
  const m = new RegExp(`^${BYTES}$`).exec(text.trim());
  if (!m) return undefined;
  const unit = m[2] ?? "";
  const power = UNIT_POWER[unit.replace("i", "")] ?? 0;
  return Math.round(Number(m[1]) * (unit.endsWith("i") ? 1024 : 1000) ** power);
}

const bytesAt = (m: RegExpExecArray, i: number) => parseKopiaBytes(`${m[i]} ${m[i + 1]}B`) ?? 0;
const intAt = (m: RegExpExecArray, i: number) => Number(m[i] ?? 0);

const SNAPSHOT_LINE = new RegExp(
  String.raw`^\s*\S?\s*(\d+) hashing, (\d+) hashed \(${BYTES}\), (\d+) cached \(${BYTES}\), uploaded ${BYTES}` +
    String.raw`(?: \((\d+) fatal errors\))?(?: \((\d+) errors ignored\))?` +
    String.raw`(?:, estimated ${BYTES} \((\d+(?:\.\d+)?)%\))?`,
);

/** The numbers of a `snapshot create` progress line, or undefined for any other stderr line. */
export function parseSnapshotProgress(line: string): SnapshotProgress | undefined {
  const m = SNAPSHOT_LINE.exec(line);
  if (!m) return undefined;
  const progress: SnapshotProgress = {
    hashing: intAt(m, 1),
    hashedFiles: intAt(m, 2),
    hashedBytes: bytesAt(m, 3),
    cachedFiles: intAt(m, 5),
    cachedBytes: bytesAt(m, 6),
    uploadedBytes: bytesAt(m, 8),
    fatalErrors: intAt(m, 10),
    ignoredErrors: intAt(m, 11),
  };
  if (m[12] !== undefined) progress.estimatedBytes = bytesAt(m, 12);
  if (m[14] !== undefined) progress.percent = Number(m[14]);
  return progress;
}

const RESTORE_LINE = new RegExp(
  String.raw`^\s*Processed (\d+) \(${BYTES}\) of (\d+) \(${BYTES}\)` +
    String.raw`(?:, skipped (\d+) \(${BYTES}\))?(?:, ignored (\d+) errors)?` +
    String.raw`(?: \S+ \S+ \((\d+(?:\.\d+)?)%\))?`,
);

/** The numbers of a `snapshot restore` progress line, or undefined for any other stderr line. */
export function parseRestoreProgress(line: string): RestoreProgress | undefined {
  const m = RESTORE_LINE.exec(line);
  if (!m) return undefined;
  const progress: RestoreProgress = {
    processedFiles: intAt(m, 1),
    processedBytes: bytesAt(m, 2),
    totalFiles: intAt(m, 4),
    totalBytes: bytesAt(m, 5),
    skippedFiles: intAt(m, 7),
    skippedBytes: m[8] === undefined ? 0 : bytesAt(m, 8),
    ignoredErrors: intAt(m, 10),
  };
  if (m[11] !== undefined) progress.percent = Number(m[11]);
  return progress;
}

const AFTER_RESTORE_LINE = new RegExp(`${RESTORE_LINE.source}(?: remaining \\S+)?\\.\\s*`);

/**
 * What follows a `snapshot restore` redraw on its line: kopia prints its error right after the last
 * redraw ("… of 7 (52.4 MB).error restoring: …"), so a failure would otherwise hide in a redraw.
 */
export function afterRestoreRedraw(line: string): string {
  const m = AFTER_RESTORE_LINE.exec(line);
  return m ? line.slice(m.index + m[0].length).trim() : "";
}

/** What kopia's closing line of a restore counts. */
export interface RestoredSummary {
  files: number;
  directories: number;
  symlinks: number;
}

const RESTORED_LINE = /^Restored (\d+) files?, (\d+) director(?:y|ies) and (\d+) symbolic links? /;

/** "Restored 6 files, 2 directories and 0 symbolic links (52.4 MB)." → its counts; else undefined. */
export function parseRestoredSummary(line: string): RestoredSummary | undefined {
  const m = RESTORED_LINE.exec(line.trim());
  if (!m) return undefined;
  return { files: intAt(m, 1), directories: intAt(m, 2), symlinks: intAt(m, 3) };
}

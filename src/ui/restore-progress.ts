import type { Logger } from "../core/log.ts";
import type { ContentProgress, RestoredSoFar } from "../core/restore/context.ts";
import { formatBytes, formatDuration } from "./output.ts";

/** Where the live line goes: stderr, or a test double. */
export interface ProgressOut {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

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

/**
 * Progress of the volumes and binds a restore writes. On a terminal one line per item is redrawn in
 * place and left standing; otherwise a plain log line at most every `plainEveryMs`. Silent under
 * `--quiet`.
 */
export function createRestoreProgress(o: {
  log: Logger;
  out?: ProgressOut;
  plainEveryMs?: number;
  now?: () => number;
}): ContentProgress {
  const out = o.out ?? process.stderr;
  const live = out.isTTY === true;
  const now = o.now ?? (() => performance.now());
  const every = o.plainEveryMs ?? 10_000;
  return (label, expected) => {
    const start = now();
    let last: RestoredSoFar | undefined;
    let lastLogged = start;
    let done = false;
    const quiet = o.log.level < 3;
    const line = (finished = false) => restoreProgressLine(label, last, now() - start, expected, finished);
    const draw = (suffix = "", end = "", finished = false) => {
      const text = `${line(finished)}${suffix}`;
      const width = out.columns && out.columns > 10 ? out.columns - 1 : undefined;
      out.write(`\r\x1b[2K${width ? text.slice(0, width) : text}${end}`);
    };
    if (live && !quiet) draw();
    return {
      standing: live && !quiet,
      update(p) {
        if (done || quiet) return;
        last = p;
        if (live) return draw();
        if (now() - lastLogged < every) return;
        lastLogged = now();
        o.log.info(line());
      },
      finish(outcome) {
        if (done || quiet) return;
        done = true;
        if (live) draw(outcome === "failed" ? " — failed" : "", "\n", outcome === "ok");
      },
    };
  };
}

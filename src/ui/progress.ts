import type { SnapshotProgress } from "../core/kopia/progress.ts";
import type { Logger } from "../core/log.ts";
import { formatBytes, formatDuration } from "./output.ts";

/** One snapshot being taken: fed kopia's redraws, finished once. */
export interface SourceProgress {
  /** True on a terminal: the line drawn stays when done, so the caller's own log lines are redundant. */
  readonly standing: boolean;
  update(p: SnapshotProgress): void;
  finish(outcome: "ok" | "failed"): void;
}

/** Progress of one unit; its sources are snapshotted one after the other. */
export interface UnitProgress {
  /** `expectedBytes`: the source's last snapshot size, for a percentage. */
  source(label: string, o?: { expectedBytes?: number }): SourceProgress;
}

export interface ProgressReporter {
  unit(name: string): UnitProgress;
}

/** Where the live line goes: stderr, or a test double. */
export interface ProgressOutput {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export interface ProgressOptions {
  log: Logger;
  out?: ProgressOutput;
  /** Without a terminal: at most one plain log line per source this often. */
  plainEveryMs?: number;
  now?: () => number;
}

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

const NOOP: UnitProgress = { source: () => ({ standing: false, update() {}, finish() {} }) };

/**
 * Progress for backups. On a terminal one line per source is redrawn in place and left standing when
 * the source is done; otherwise (journald, pipes, CI) a plain log line at most every `plainEveryMs`,
 * and a closing one for a source that logged any. Never asks anything. Silent under `--quiet`; plain
 * lines under `--verbose`.
 */
export function createProgressReporter(o: ProgressOptions): ProgressReporter {
  const out = o.out ?? process.stderr;
  // The one place that decides between a live line and plain log lines. Under --verbose, debug lines
  // (every command run, kopia's stderr) would land in the middle of a redrawn line: plain lines then.
  const live = out.isTTY === true && o.log.level < 4;
  const now = o.now ?? (() => performance.now());
  const every = o.plainEveryMs ?? 10_000;
  if (o.log.level < 3) return { unit: () => NOOP };
  return {
    unit(name) {
      const unitStart = now();
      return {
        source(what, so = {}) {
          const label = `${name} ${what}`;
          const start = now();
          let last: SnapshotProgress | undefined;
          let lastLogged = start;
          let logged = false;
          let done = false;
          // A finished source shows no percentage: kopia's rounded sizes may end just short of 100.
          const expected = () => (done ? undefined : so.expectedBytes);
          const line = () => progressLine(label, last, now() - start, now() - unitStart, expected());
          // Clear and redraw; cut to the terminal width, as a wrapped line could not be redrawn.
          const draw = (suffix = "", end = "") => {
            const text = `${line()}${suffix}`;
            const width = out.columns && out.columns > 10 ? out.columns - 1 : undefined;
            out.write(`\r\x1b[2K${width ? text.slice(0, width) : text}${end}`);
          };
          if (live) draw();
          return {
            standing: live,
            update(p) {
              if (done) return;
              last = p;
              if (live) return draw();
              if (now() - lastLogged < every) return;
              lastLogged = now();
              logged = true;
              o.log.info(line());
            },
            finish(outcome) {
              if (done) return;
              done = true;
              const suffix = outcome === "failed" ? " — failed" : "";
              if (live) draw(suffix, "\n");
              else if (logged) o.log.info(`${line()}${suffix}`);
            },
          };
        },
      };
    },
  };
}

import type { RunResult } from "../process/runner.ts";
import type { RestoreProgress, SnapshotProgress } from "./progress.ts";

/** The options of the kopia client (`kopia.ts`) and of its snapshot calls. */

export interface KopiaOptions {
  /** kopia's config file for our connection (never the user's default one). */
  configFile: string;
  cacheDir: string;
  logDir: string;
  /** Returns the repository password; called lazily, so commands that need none never read it. */
  password: () => string;
  /** Identity every snapshot is recorded under (`--override-hostname/--override-username`). */
  hostname: string;
  username: string;
  cacheSizeMb?: number;
  /** argv[0] for kopia, resolved on first call (`kopia.binary`: PATH, embedded, or a path). Default "kopia". */
  binary?: () => Promise<string>;
}

export interface SnapshotCreateOptions {
  /** Recorded source `user@host:/path`, stable whatever physical path was read. */
  overrideSource?: string;
  tags?: Record<string, string>;
  description?: string;
  signal?: AbortSignal;
  /** Every stderr line that is not a progress redraw. */
  onStderrLine?: (line: string) => void;
  /** Given: kopia runs with `--progress` and each redraw is parsed and passed here. */
  onProgress?: (progress: SnapshotProgress) => void;
  /**
   * A fifo: the snapshot opens the repository, then waits for "go" on it before it reads a file
   * (the gate action, `gate.ts`). Without it the snapshot reads at once, as ever.
   */
  gate?: string;
  /** With `gate`: a file created once the whole tree is read, before the manifest is saved. */
  readDone?: string;
  /** Snapshot this stream as the one file `file` (`--stdin-file`) instead of reading the path. */
  stdin?: { file: string; stream: ReadableStream<Uint8Array> };
  /** With `signal`: how long kopia gets between SIGTERM and SIGKILL. */
  killGraceMs?: number;
}

export interface SnapshotRestoreOptions {
  signal?: AbortSignal;
  /** Remove files in the target that are not in the snapshot (kopia ≥ 0.21). */
  deleteExtra?: boolean;
  /**
   * The target is absent or an empty directory that nothing but root can write into, so no symlink
   * can be planted where kopia writes: files are written in place (no temp name, so names up to 255
   * bytes restore) and sparsely (`--write-sparse-files`, which kopia ignores with atomic writes).
   */
  intoEmpty?: boolean;
  /** Every stderr line that is not a progress redraw. */
  onStderrLine?: (line: string) => void;
  /** Given: kopia runs with `--progress` and each redraw is parsed and passed here. */
  onProgress?: (progress: RestoreProgress) => void;
}

/**
 * Runner options and the progress flag for a command that may report progress. Progress redraws go
 * to `onProgress` only and are dropped from the kept stderr, so an error tail still shows the error.
 * `after`: what kopia printed on a redraw's line after it (a restore's error follows its last redraw
 * with no line break), kept as a line of its own.
 */
export function progressRun<P>(
  parse: (line: string) => P | undefined,
  o: { onStderrLine?: (line: string) => void; onProgress?: (p: P) => void },
  after: (line: string) => string = () => "",
) {
  const { onProgress, onStderrLine } = o;
  if (!onProgress) return { flags: ["--no-progress"], options: { onStderrLine }, clean: (r: RunResult) => r };
  return {
    flags: ["--progress"],
    options: {
      splitCarriageReturn: true,
      onStderrLine: (line: string) => {
        const p = parse(line);
        if (p) onProgress(p);
        const rest = p ? after(line) : line;
        if (rest.trim()) onStderrLine?.(rest);
      },
    },
    clean: (r: RunResult): RunResult => ({
      ...r,
      stderr: r.stderr
        .split(/\r?\n|\r/)
        .map((l) => (parse(l) ? after(l) : l))
        .filter((l) => l.trim())
        .join("\n"),
    }),
  };
}

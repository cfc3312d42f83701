import type { ResolvedPaths } from "../../config/resolve.ts";
import type { Config } from "../../config/schema.ts";
import type { Docker } from "../docker/docker.ts";
import type { Kopia } from "../kopia/kopia.ts";
import type { RestoreProgress } from "../kopia/progress.ts";
import type { Logger } from "../log.ts";
import type { Runner } from "../process/runner.ts";
import type { Lifecycle } from "../safe-exit.ts";

/**
 * What a restore needs from the command context. Structural, so core never imports from
 * src/commands: the command's `AppContext` satisfies it as it is.
 */
export interface RestoreContext {
  config: Config;
  paths: Pick<ResolvedPaths, "cacheDir" | "lockFile" | "journalDir" | "stateDir" | "kopiaConfigFile">;
  hostname: string;
  log: Logger;
  runner: Runner;
  docker: Docker;
  kopia: Kopia;
  lifecycle: Lifecycle;
  /** Live progress of what kopia writes; none: log lines only. */
  progress?: ContentProgress;
}

/** What kopia reports while it restores (the fields of its `--progress` line a renderer needs). */
export type RestoredSoFar = Pick<
  RestoreProgress,
  "processedFiles" | "processedBytes" | "totalFiles" | "totalBytes"
>;

/** One live progress display per volume or bind restored; the command passes a renderer, or none. */
export type ContentProgress = (
  label: string,
  expected: { sizeBytes: number; files: number },
) => {
  /** True when a live line is drawn and left standing (the caller's own summary line is redundant). */
  readonly standing: boolean;
  update(p: RestoredSoFar): void;
  finish(outcome: "ok" | "failed"): void;
};

import type { SnapshotProgress } from "../kopia/progress.ts";

/**
 * What the backup executor reports progress through; `src/ui/progress.ts` draws it (as restore's
 * `ContentProgress` in `restore/context.ts`). Declared here so core never imports the UI.
 */
export interface ProgressReporter {
  unit(name: string): UnitProgress;
}

/** Progress of one unit; its sources are snapshotted one after the other. */
export interface UnitProgress {
  /** `expectedBytes`: the source's last snapshot size, for a percentage. */
  source(label: string, o?: { expectedBytes?: number }): SourceProgress;
}

/** One snapshot being taken: fed kopia's redraws, finished once. */
export interface SourceProgress {
  /** True when a live line is drawn and left standing (the caller's own summary line is redundant). */
  readonly standing: boolean;
  update(p: SnapshotProgress): void;
  finish(outcome: "ok" | "failed"): void;
}

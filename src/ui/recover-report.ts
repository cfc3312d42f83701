import type { RecoverReport } from "../core/containers/recover-locked.ts";
import type { Rendered } from "./output.ts";

/** `recover`: what was started, skipped or failed, and what was left to a run that is still alive. */
export function renderRecover(r: RecoverReport): Rendered {
  const snaps = [
    ...r.snapshots.removed.map((p) => `removed  snapshot ${p}`),
    ...r.snapshots.failed.map((f) => `FAILED   snapshot ${f.snapshot}: ${f.reason}`),
  ];
  if (r.pendingBefore === 0 && snaps.length === 0)
    return "Nothing to recover: no container is recorded as stopped by kopi-docka.";
  const lines = [
    ...snaps,
    ...r.started.map((name) => `started  ${name}`),
    ...r.skipped.map((s) => `skipped  ${s.name}: ${s.reason}`),
    ...r.held.map((h) => `HELD     ${h.name} stays stopped: ${h.reason}`),
    ...r.failed.map((f) => `FAILED   ${f.name}: ${f.reason}`),
  ];
  if (r.leftForLiveRuns > 0)
    lines.push(`${r.leftForLiveRuns} container(s) belong to a backup that is still running; left alone.`);
  return lines;
}

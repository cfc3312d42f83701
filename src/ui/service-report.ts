import type { LockState, UnlockResult } from "../core/lock/inspect.ts";
import { describeHolder } from "../core/lock/owner.ts";
import type { LogsResult } from "../systemd/logs.ts";
import type { RunNowResult } from "../systemd/run-now.ts";
import { renderHistory } from "./backup-report.ts";

/** The `lock` line of `systemd status`. */
export function lockLine(l: LockState): string {
  switch (l.state) {
    case "free":
      return `lock      free (${l.file})`;
    case "held":
      return `lock      held by ${describeHolder(l.holder)}${l.uncheckable ? `; cannot check it here: ${l.uncheckable}` : ""}`;
    case "stale":
      return `lock      STALE: ${l.holder ? `${describeHolder(l.holder)} is gone` : "the file is unreadable"} (${l.file}); the next run takes it over, or \`kopi-docka systemd unlock\``;
  }
}

export function unlockText(r: UnlockResult): string {
  if (!r.removed) return `the lock is free (${r.file}); nothing to do`;
  return `removed the stale lock ${r.file}${r.holder ? ` of ${describeHolder(r.holder)}` : ""}`;
}

/** `systemd logs`: journal lines as journalctl's short-iso shows them, or the run records and why. */
export function logsText(r: LogsResult): string[] {
  if (r.source === "run-records") return [renderHistory(r.runs)];
  if (r.entries.length === 0) return [`no journal entries for ${r.unit}`];
  return r.entries.map((e) => `${e.time} ${e.pid ? `[${e.pid}] ` : ""}${e.message}`);
}

export function runNowText(r: RunNowResult): string {
  if (!r.finished) return `started ${r.unit}; \`kopi-docka systemd logs --follow\` shows it`;
  const f = r.finished;
  return `${r.unit} finished: ${f.result ?? "?"}, exit status ${f.exitStatus ?? "?"}`;
}

import { AppError } from "../core/errors.ts";
import type { Runner } from "../core/process/runner.ts";
import { journalctlArgv } from "./logs.ts";
import { showUnit } from "./systemctl.ts";
import { SERVICE_UNIT } from "./units.ts";

/** How long journalctl keeps following after the run ended, for its last lines. */
const POLL_MS = 1000;

/** How a run started by `run-now` ended (or that it was only started). */
export interface RunNowResult {
  unit: string;
  started: boolean;
  /** With --follow: the run's end as systemd saw it. */
  finished?: { result: string | null; exitStatus: number | null; activeState: string | null };
}

export interface RunNowDeps {
  runner: Runner;
  systemdRunning: boolean;
  signal?: AbortSignal;
  pollMs?: number;
}

/**
 * Starts the backup service as the timer would: same unit, same sandbox, same journal. Without
 * `follow` the start does not wait (`systemctl start --no-block`). With it, the journal is shown live
 * while a plain `systemctl start` waits for the oneshot run to end (polling its state would miss a
 * short successful run: systemd forgets an inactive unit's last run at once), and the result carries
 * the run's exit status. Ctrl+C stops the watching, never the run.
 */
export async function runNow(deps: RunNowDeps, o: { follow: boolean }): Promise<RunNowResult> {
  if (!deps.systemdRunning) {
    throw new AppError("dependency_missing", "systemd is not running here: there is no service to start", {
      hint: "run the backup directly: `kopi-docka backup`",
    });
  }
  const before = await showUnit(deps.runner, SERVICE_UNIT);
  if (before.loadState !== "loaded") {
    throw new AppError("not_found", `${SERVICE_UNIT} is not installed`, {
      hint: "install it with `kopi-docka systemd install`",
    });
  }
  if (!o.follow) {
    await deps.runner.run(["systemctl", "start", "--no-block", SERVICE_UNIT], { timeoutMs: 60_000 });
    return { unit: SERVICE_UNIT, started: true };
  }
  const since = new Date(Date.now() - 1000);
  const stopFollowing = new AbortController();
  const journal = deps.runner.run(journalctlArgv({ lines: 1000, since: journalTime(since), follow: true }), {
    stdio: "inherit",
    check: false,
    signal: stopFollowing.signal,
    killGraceMs: 2000,
  });
  try {
    const started = await deps.runner.run(["systemctl", "start", SERVICE_UNIT], {
      check: false,
      signal: deps.signal,
    });
    if (deps.signal?.aborted) throw deps.signal.reason ?? new Error("aborted");
    // journald may still be passing on the last lines: give journalctl a moment to print them
    await Bun.sleep(deps.pollMs ?? POLL_MS);
    if (started.exitCode === 0) {
      return {
        unit: SERVICE_UNIT,
        started: true,
        finished: { result: "success", exitStatus: 0, activeState: "inactive" },
      };
    }
    const end = await showUnit(deps.runner, SERVICE_UNIT);
    const status = Number(end.lastExitStatus);
    return {
      unit: SERVICE_UNIT,
      started: true,
      finished: {
        result: end.result,
        exitStatus: Number.isInteger(status) && status !== 0 ? status : null,
        activeState: end.activeState,
      },
    };
  } finally {
    stopFollowing.abort();
    await journal.catch(() => undefined);
  }
}

/** journalctl's --since format (local time is what it parses without a zone; UTC is explicit). */
function journalTime(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

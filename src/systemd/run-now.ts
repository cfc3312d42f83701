import { AppError } from "../core/errors.ts";
import type { Runner } from "../core/process/runner.ts";
import { journalctlArgv } from "./logs.ts";
import { showUnit, type UnitRuntime } from "./systemctl.ts";
import { SERVICE_UNIT } from "./units.ts";

/** How often the service's state is read while following a run. */
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
 * Starts the backup service without waiting for it (`systemctl start --no-block`), as the timer
 * would: same unit, same sandbox, same journal. With `follow`, its journal is shown live until the
 * run ends, and the result carries the run's exit status.
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
  const since = new Date(Date.now() - 1000);
  await deps.runner.run(["systemctl", "start", "--no-block", SERVICE_UNIT], { timeoutMs: 60_000 });
  if (!o.follow) return { unit: SERVICE_UNIT, started: true };
  const stopFollowing = new AbortController();
  const abortWith = () => stopFollowing.abort();
  deps.signal?.addEventListener("abort", abortWith, { once: true });
  const journal = deps.runner.run(journalctlArgv({ lines: 1000, since: journalTime(since), follow: true }), {
    stdio: "inherit",
    check: false,
    signal: stopFollowing.signal,
    killGraceMs: 2000,
  });
  try {
    const end = await waitForEnd(deps, before);
    // journald may still be writing the last lines: give journalctl a moment to print them
    await Bun.sleep(deps.pollMs ?? POLL_MS);
    return { unit: SERVICE_UNIT, started: true, finished: end };
  } finally {
    stopFollowing.abort();
    deps.signal?.removeEventListener("abort", abortWith);
    await journal.catch(() => undefined);
  }
}

/** Polls without the run ever starting before `run-now --follow` says the start failed. */
const START_POLLS = 60;

/** Polls until this run (a new ExecMainStart) is over. */
async function waitForEnd(
  deps: RunNowDeps,
  before: UnitRuntime,
): Promise<NonNullable<RunNowResult["finished"]>> {
  for (let polls = 1; ; polls++) {
    if (deps.signal?.aborted) throw deps.signal.reason ?? new Error("aborted");
    await Bun.sleep(deps.pollMs ?? POLL_MS);
    const now = await showUnit(deps.runner, SERVICE_UNIT);
    const ranAgain = now.lastStart !== null && now.lastStart !== before.lastStart;
    const idle = now.activeState === "inactive" || now.activeState === "failed";
    if (!ranAgain && idle && polls >= START_POLLS) {
      throw new AppError(
        "process_failed",
        `${SERVICE_UNIT} did not start (${now.activeState}, ${now.result})`,
        {
          hint: `see \`systemctl status ${SERVICE_UNIT}\``,
        },
      );
    }
    if (ranAgain && idle && now.lastExit !== null) {
      const status = Number(now.lastExitStatus);
      return {
        result: now.result,
        exitStatus: Number.isInteger(status) ? status : null,
        activeState: now.activeState,
      };
    }
  }
}

/** journalctl's --since format (local time is what it parses without a zone; UTC is explicit). */
function journalTime(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

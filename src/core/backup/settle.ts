import { errorMessage } from "../caught.ts";
import { policyArg, policyOf } from "../containers/held-policy.ts";
import {
  isRestarted,
  lookUntilSteady,
  SETTLE_MS,
  type Settled,
  type SettleTarget,
} from "../containers/settle.ts";
import type { BackupDeps } from "./deps.ts";
import type { PhaseError } from "./result.ts";
import { tickOver } from "./timestamp-tick.ts";

/** A container the backup started again and saw running (`startUnit`), and when (wall clock ms). */
export interface Started extends SettleTarget {
  runningAt: number;
}

/** A container a backup started again that exited 0 where docker starts it no more: a job that is done. */
export const finishedWarning = (name: string, policy: string) =>
  `${name} ran and exited 0 after the start (restart policy ${policy}): a one-off job that finished, not a failed start`;

/**
 * The look, per unit, at the containers its backup started again, once SETTLE_MS has passed since
 * the last of them was seen running: the looks a restore takes too (`containers/settle.ts`
 * `lookUntilSteady`). The wait after each start ends as soon as docker says it runs, which an app
 * that crashes a second later passes too, and so may one in a crash loop between two attempts.
 * Started right after the starts and awaited at the unit's end, the look runs beside kopia's save:
 * the cold window is no longer, and no container waits SETTLE_MS of its own. One its restart policy
 * started again (the app that starts before its database accepts connections) and that then runs
 * steadily is a warning. One not running, or crash-looping, is a failed start of the unit
 * (`restart_failed`, exit 4), named with its state and why. One that exited 0 where docker starts it
 * no more (policy `no`, `on-failure`) is a finished job, a warning. Never throws: a look docker
 * cannot answer is a warning.
 */
export async function settleStarted(
  d: BackupDeps,
  unit: string,
  started: readonly Started[],
): Promise<{ restartFailed: string[]; errors: PhaseError[]; warnings: string[] }> {
  const out = { restartFailed: [] as string[], errors: [] as PhaseError[], warnings: [] as string[] };
  const looked = await lookUntilSteady(d.docker, started, {
    startTimeoutSec: d.config.backup.start_timeout,
    // SETTLE_MS from the last one seen running: the ones before have waited longer already.
    firstAt: Math.max(...started.map((s) => s.runningAt)) + SETTLE_MS,
    sleep: d.sleep ?? ((ms) => tickOver(Date.now() + ms, d.lifecycle.signal, () => {})),
    // Cut short by a signal: the run is recorded as interrupted, and its end is not held for a look.
    signal: d.lifecycle.signal,
  });
  for (const s of looked.settled) note(d, unit, s, out);
  if (looked.unanswered) {
    const { containers, error } = looked.unanswered;
    const names = containers.map((s) => s.name).join(", ");
    const w = `cannot tell whether ${names} still run ${SETTLE_MS / 1000}s after the start: ${errorMessage(error)}`;
    d.log.warn(`${unit}: ${w}`);
    out.warnings.push(w);
  }
  return out;
}

/** A look's verdict on a container into the unit's failed starts or its warnings. */
function note(
  d: BackupDeps,
  unit: string,
  { container: { name }, verdict, inspect: c }: Settled<Started>,
  out: { restartFailed: string[]; errors: PhaseError[]; warnings: string[] },
): void {
  if (verdict === "runs") return;
  if (verdict === "finished") {
    const w = finishedWarning(name, c ? policyArg(policyOf(c)) : "no or on-failure");
    d.log.warn(`${unit}: ${w}`);
    out.warnings.push(w);
    return;
  }
  if (isRestarted(verdict)) {
    d.log.warn(`${unit}: ${verdict.warning}`);
    out.warnings.push(verdict.warning);
    return;
  }
  d.log.error(`${unit}: ${name} is not running (${verdict.state}): ${verdict.reason}; ${verdict.next}`);
  out.restartFailed.push(name);
  out.errors.push({
    phase: "start",
    item: name,
    message: `${verdict.state}: ${verdict.reason}`,
    next: verdict.next,
  });
}

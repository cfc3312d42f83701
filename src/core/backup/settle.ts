import { errorMessage } from "../caught.ts";
import { policyArg, policyOf } from "../containers/held-policy.ts";
import {
  isRestarted,
  judgeLook,
  SETTLE_MS,
  type SettleVerdict,
  type Settling,
  settleLooks,
} from "../containers/settle.ts";
import type { ContainerInspect } from "../docker/schemas.ts";
import type { BackupDeps } from "./deps.ts";
import type { PhaseError } from "./result.ts";
import { tickOver } from "./timestamp-tick.ts";

/** A container the backup started again and saw running (`startUnit`), and when (wall clock ms). */
export interface Started extends Settling {
  id: string;
  runningAt: number;
}

/** A container a backup started again that exited 0 where docker starts it no more: a job that is done. */
export const finishedWarning = (name: string, policy: string) =>
  `${name} ran and exited 0 after the start (restart policy ${policy}): a one-off job that finished, not a failed start`;

/**
 * The look, per unit, at the containers its backup started again, once SETTLE_MS has passed since
 * the last of them was seen running: the judgement a restore makes (`containers/settle.ts`). The wait
 * after each start ends as soon as docker says it runs, which an app that crashes a second later
 * passes too, and so may one in a crash loop between two attempts. Started right after the starts and
 * awaited at the unit's end, the look runs beside kopia's save: the cold window is no longer, and no
 * container waits SETTLE_MS of its own. One its restart policy started again meanwhile (the app that
 * starts before its database accepts connections) is looked at again, SETTLE_MS on, until it runs as
 * the incarnation the look before saw, a warning, or `settleLooks` have passed: then it is crash-looping. One not running,
 * or crash-looping, is a failed start of the unit (`restart_failed`, exit 4), named with its state and
 * why. One that exited 0 where docker starts it no more (policy `no`, `on-failure`) is a finished job,
 * a warning. Never throws: a look docker cannot answer is a warning.
 */
export async function settleStarted(
  d: BackupDeps,
  unit: string,
  started: readonly Started[],
): Promise<{ restartFailed: string[]; errors: PhaseError[]; warnings: string[] }> {
  const out = { restartFailed: [] as string[], errors: [] as PhaseError[], warnings: [] as string[] };
  let due = Math.max(...started.map((s) => s.runningAt)) + SETTLE_MS;
  let looking: readonly Started[] = started;
  // One restarted by its policy is looked at again until it runs steadily, at most `settleLooks` times.
  const looks = settleLooks(d.config.backup.start_timeout);
  for (let n = 1; looking.length; n++) {
    if (d.sleep) await d.sleep(Math.max(0, due - Date.now()));
    else await tickOver(due, d.lifecycle.signal, () => {});
    // Cut short by a signal: the run is recorded as interrupted, and its end is not held for a look.
    if (d.lifecycle.signal.aborted) return out;
    const now = await look(d, unit, looking, out.warnings);
    if (!now) return out;
    due = Date.now() + SETTLE_MS;
    const inspectOf = (s: Started) => now.find((c) => c.Id.startsWith(s.id));
    const { again, judged } = judgeLook(looking, inspectOf, n >= looks);
    for (const { t, verdict } of judged) note(d, unit, t.name, verdict, inspectOf(t), out);
    looking = again;
  }
  return out;
}

/** One look at `looking`; undefined (said, a warning) when docker cannot answer. */
async function look(
  d: BackupDeps,
  unit: string,
  looking: readonly Started[],
  warnings: string[],
): Promise<ContainerInspect[] | undefined> {
  try {
    return await d.docker.inspectContainers(looking.map((s) => s.id));
  } catch (e) {
    const names = looking.map((s) => s.name).join(", ");
    const w = `cannot tell whether ${names} still run ${SETTLE_MS / 1000}s after the start: ${errorMessage(e)}`;
    d.log.warn(`${unit}: ${w}`);
    warnings.push(w);
    return undefined;
  }
}

/** A look's verdict on `name` (`c` its inspect then) into the unit's failed starts or its warnings. */
function note(
  d: BackupDeps,
  unit: string,
  name: string,
  verdict: Exclude<SettleVerdict, "look again">,
  c: ContainerInspect | undefined,
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

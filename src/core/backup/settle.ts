import { errorMessage } from "../caught.ts";
import { afterSettle, SETTLE_MS, type Settling } from "../containers/settle.ts";
import type { ContainerInspect } from "../docker/schemas.ts";
import type { BackupDeps } from "./deps.ts";
import type { PhaseError } from "./result.ts";
import { tickOver } from "./timestamp-tick.ts";

/** A container the backup started again and saw running (`startUnit`), and when (wall clock ms). */
export interface Started extends Settling {
  id: string;
  runningAt: number;
}

/**
 * The one look, per unit, at the containers its backup started again, once SETTLE_MS has passed since
 * the last of them was seen running: the judgement a restore makes (`containers/settle.ts`). The wait
 * after each start ends as soon as docker says it runs, which an app that crashes a second later
 * passes too, and so may one in a crash loop between two attempts. Started right after the starts and
 * awaited at the unit's end, the look runs beside kopia's save: the cold window is no longer, and no
 * container waits SETTLE_MS of its own. One not running then, or running as another incarnation (its
 * restart policy started it again), is a failed start of the unit (`restart_failed`, exit 4), named
 * with its state and why. Nothing that ran before the backup is a finished job. Never throws: a look
 * docker cannot answer is a warning.
 */
export async function settleStarted(
  d: BackupDeps,
  unit: string,
  started: readonly Started[],
): Promise<{ restartFailed: string[]; errors: PhaseError[]; warnings: string[] }> {
  const out = { restartFailed: [] as string[], errors: [] as PhaseError[], warnings: [] as string[] };
  if (started.length === 0) return out;
  const signal = d.lifecycle.signal;
  const due = Math.max(...started.map((s) => s.runningAt)) + SETTLE_MS;
  if (d.sleep) await d.sleep(Math.max(0, due - Date.now()));
  else await tickOver(due, signal, () => {});
  // Cut short by a signal: the run is recorded as interrupted, and its end is not held for a look.
  if (signal.aborted) return out;
  let now: ContainerInspect[];
  try {
    now = await d.docker.inspectContainers(started.map((s) => s.id));
  } catch (e) {
    const names = started.map((s) => s.name).join(", ");
    const w = `cannot tell whether ${names} still run ${SETTLE_MS / 1000}s after the start: ${errorMessage(e)}`;
    d.log.warn(`${unit}: ${w}`);
    out.warnings.push(w);
    return out;
  }
  for (const s of started) {
    const verdict = afterSettle(
      s,
      now.find((c) => c.Id.startsWith(s.id)),
    );
    if (typeof verdict === "string") continue;
    d.log.error(`${unit}: ${s.name} is not running (${verdict.state}): ${verdict.reason}; ${verdict.next}`);
    out.restartFailed.push(s.name);
    out.errors.push({
      phase: "start",
      item: s.name,
      message: `${verdict.state}: ${verdict.reason}`,
      next: verdict.next,
    });
  }
  return out;
}

import { rmSync } from "node:fs";
import type { Docker } from "../docker/docker.ts";
import type { Logger } from "../log.ts";
import { type Compensation, type Lifecycle, PRIORITY } from "../safe-exit.ts";

/** How far a restore got: what the abort report (and the normal path) needs to know. */
export interface RestoreRunState {
  /** Containers it stopped, or is stopping now (a `docker stop` in flight is waited for on a signal). */
  stopped: { id: string; name: string }[];
  /** What kopia is writing now: if the run ends there, its content is partly restored. */
  writing?: string;
  /** `<unit>@<run id>` once the undo point is taken. */
  undoPoint?: string;
  done: boolean;
}

/**
 * Registers what runs once however the restore ends: its temp data removed; after a failure or a
 * signal, the containers it stopped stay stopped (their data may be half restored) and are listed
 * (those really stopped, asked of docker), with the undo point and what was left half written.
 */
export function registerRestoreEnd(
  d: { docker: Docker; log: Logger; lifecycle: Lifecycle },
  unit: string,
  tempDir: string,
  state: RestoreRunState,
): Compensation {
  return d.lifecycle.register(`restore ${unit}: temp data`, PRIORITY.dataSafety, async () => {
    rmSync(tempDir, { recursive: true, force: true });
    if (state.done) return;
    if (state.writing) d.log.warn(`${state.writing} was being restored: its content is partly restored`);
    const left: string[] = [];
    for (const c of state.stopped) {
      if (!(await d.docker.isRunning(c.id))) left.push(c.name);
    }
    if (left.length) d.log.warn(`left stopped (start them when ready): ${left.join(", ")}`);
    if (state.undoPoint) d.log.warn(`undo point: kopi-docka restore --unit ${unit} --run ${state.undoPoint}`);
  });
}

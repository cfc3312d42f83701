import { rmSync } from "node:fs";
import { errorMessage } from "../caught.ts";
import type { Docker } from "../docker/docker.ts";
import type { Logger } from "../log.ts";
import { type Compensation, type Lifecycle, PRIORITY } from "../safe-exit.ts";
import type { RestoreStops } from "./stop-journal.ts";

/** How far a restore got: what the abort report (and the normal path) needs to know. */
export interface RestoreRunState {
  /** Containers it stopped, or is stopping now (a `docker stop` in flight is waited for on a signal). */
  stopped: { id: string; name: string; paused?: true }[];
  /** What kopia is writing now: if the run ends there, its content is partly restored. */
  writing?: string;
  /** Set when the first volume, bind or database starts being replaced: from then on data may be half restored. */
  written?: boolean;
  /** `<unit>@<run id>` once the undo point is taken. */
  undoPoint?: string;
  done: boolean;
}

/** A container the restore found paused, started again on a path that does not wait to pause it. */
export const PAUSED_BEFORE = (name: string) =>
  `${name} was paused before the restore and runs now: \`docker pause ${name}\` pauses it again`;

/**
 * Registers what runs once however the restore ends: its temp data removed; after a failure or a
 * signal, the containers it stopped stay stopped once any data was replaced (it may be half
 * restored) and are listed (those really stopped, asked of docker), with the undo point and what was
 * left half written. Before that (the undo point, a network, a stop failed) their data is untouched:
 * they are started again, the last stopped first (a database fed a dump is stopped after its clients).
 */
export function registerRestoreEnd(
  d: { docker: Docker; log: Logger; lifecycle: Lifecycle },
  unit: string,
  tempDir: string,
  state: RestoreRunState,
  stops: Pick<RestoreStops, "done">,
): Compensation {
  return d.lifecycle.register(`restore ${unit}: temp data`, PRIORITY.dataSafety, async () => {
    rmSync(tempDir, { recursive: true, force: true });
    if (state.done) return;
    if (state.writing) d.log.warn(`${state.writing} was being restored: its content is partly restored`);
    const left: string[] = [];
    if (!state.written) {
      for (const c of [...state.stopped].reverse()) {
        try {
          if (!(await d.docker.isRunning(c.id))) {
            await d.docker.start(c.id);
            d.log.info(`nothing was overwritten: started ${c.name} again`);
            if (c.paused) d.log.warn(PAUSED_BEFORE(c.name));
          }
          await stops.done(c.id);
        } catch (e) {
          d.log.warn(`${c.name} could not be started again: ${errorMessage(e)}`);
          left.push(c.name);
        }
      }
    } else {
      // Held in the journal: every later run names them until they are started.
      for (const c of state.stopped) {
        if (!(await d.docker.isRunning(c.id))) left.push(c.name);
        else await stops.done(c.id);
      }
    }
    if (left.length) d.log.warn(`left stopped (start them when ready): ${left.join(", ")}`);
    if (state.undoPoint) d.log.warn(`undo point: kopi-docka restore --unit ${unit} --run ${state.undoPoint}`);
  });
}

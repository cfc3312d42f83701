import { lstatSync } from "node:fs";
import { errorMessage } from "../caught.ts";
import { AbortGrace } from "../process/runner.ts";
import { type GatedDeps, openGated } from "./gated.ts";
import type { SourcePlan } from "./plan-model.ts";

/**
 * An abort signal that follows `parent` and, once armed, fires when the time left runs out: the
 * cancellation of a unit's snapshots when its cold window passes its bound.
 */
export function coldBound(parent: AbortSignal) {
  const c = new AbortController();
  const follow = () => c.abort(parent.reason);
  parent.addEventListener("abort", follow, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const state = {
    signal: c.signal,
    overrun: false,
    arm(leftMs: number) {
      timer = setTimeout(
        () => {
          state.overrun = true;
          // A hung repository ignores SIGTERM: kopia gets a second to save what it read, no more.
          c.abort(new AbortGrace("max_cold_seconds", 1000));
        },
        Math.max(0, leftMs),
      );
    },
    /** The containers start: no more cancelling for the bound. */
    disarm() {
      if (timer) clearTimeout(timer);
    },
    /** Every snapshot has ended: stop following `parent`. */
    detach() {
      parent.removeEventListener("abort", follow);
    },
  };
  return state;
}

/** kopia runs the gate action only for a directory root; a file bind is snapshotted in the window. */
export function isRealDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * At most this many kopia processes wait at once (each holds ~100–200 MB once its repository is
 * open); a unit's further sources are snapshotted in the window as before.
 */
export const MAX_GATED = 8;

/**
 * Gated snapshots of the first `MAX_GATED` of `data`, or undefined (snapshots as ever) when the
 * gates cannot be made.
 */
export async function openGates(
  d: GatedDeps,
  data: SourcePlan[],
  o: Parameters<typeof openGated>[2],
  cancel: AbortSignal,
) {
  if (data.length === 0) return undefined;
  try {
    return await openGated(d, data.slice(0, MAX_GATED), o, cancel);
  } catch (e) {
    d.log.warn(
      `${o.unit}: snapshots not started ahead of the stop (${errorMessage(e)}); taking them in the cold window`,
    );
    return undefined;
  }
}

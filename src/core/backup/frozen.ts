import type { BackupDeps } from "./deps.ts";
import type { GatedSnapshot } from "./gated.ts";
import type { SourcePlan } from "./plan-model.ts";
import { failedSource, type SourceResult } from "./result.ts";

/** What became of one data source in the window; `quiet`: an error of another phase says why. */
export interface Taken {
  result: SourceResult;
  quiet?: boolean;
}

export interface StoppedSnapshots {
  /** Every snapshot has read all it will read: the earliest the containers may start. */
  read: Promise<void>;
  /** Every snapshot has ended; per source of `data` in order (undefined: not taken, a signal came). */
  taken: Promise<(Taken | undefined)[]>;
}

/**
 * The snapshots of a unit's data while its containers are stopped. Gated ones (their process start
 * and repository open paid before the stop) are let go all at once: side by side they share the
 * cores, and one's manifest and flush overlap another's reading, where one after the other each
 * waited for the last to end. Sources without a gate are snapshotted one after the other meanwhile.
 * `read` resolves once each gated snapshot has read its whole tree (kopia's after-snapshot-root
 * action, `kopia/gate.ts`) and the others have ended: the data is then read, and the containers may
 * start while kopia saves the manifests, applies retention and flushes, none of which reads a file.
 * Never rejects.
 */
export function snapshotStopped(
  d: BackupDeps,
  data: readonly SourcePlan[],
  gated: readonly GatedSnapshot[],
  o: {
    /** Why a source must not be snapshotted (not cold, excludes missing); undefined when it may. */
    skip: (s: SourcePlan) => string | undefined;
    /** A source without a gate, snapshotted in the window. */
    snap: (s: SourcePlan) => Promise<SourceResult>;
    /** The reason, once the cold window has passed its bound (`coldBound`). */
    overrun: () => string | undefined;
  },
): StoppedSnapshots {
  // A snapshot cancelled by the bound fails for that reason, whatever kopia said.
  const bounded = (r: SourceResult): Taken => {
    const why = o.overrun();
    return { result: why && r.status !== "ok" ? { ...r, reason: why } : r };
  };
  const reads: Promise<unknown>[] = [];
  const released = data.map(async (s): Promise<Taken | undefined> => {
    const g = gated.find((x) => x.source === s);
    if (!g) return undefined;
    const over = o.overrun();
    if (over) return { result: await g.abandon(over) };
    const skip = o.skip(s);
    if (skip) return { result: await g.abandon(skip), quiet: true };
    if (d.lifecycle.signal.aborted) {
      await g.abandon("interrupted");
      return undefined;
    }
    const result = g.release();
    reads.push(g.read);
    return bounded(await result);
  });
  const rest = (async () => {
    const out = new Map<SourcePlan, Taken>();
    for (const s of data) {
      if (gated.some((x) => x.source === s)) continue;
      const over = o.overrun();
      const skip = over ? undefined : o.skip(s);
      if (over) out.set(s, { result: failedSource(s, over) });
      else if (skip) out.set(s, { result: failedSource(s, skip), quiet: true });
      else if (d.lifecycle.signal.aborted) break;
      else out.set(s, bounded(await o.snap(s)));
    }
    return out;
  })();
  const taken = Promise.all([Promise.all(released), rest]).then(([g, r]) =>
    data.map((s, i) => g[i] ?? r.get(s)),
  );
  // `reads` is filled synchronously above, before the first await of each `released` callback.
  const read = Promise.all([...reads, rest]).then(() => {});
  return { read, taken };
}

import { closeSync, constants, existsSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { ownedTempDir } from "../process/temp-dirs.ts";
import type { BackupDeps } from "./deps.ts";
import type { SourcePlan } from "./plan-model.ts";
import type { SourceResult } from "./result.ts";
import { snapshotSource } from "./snapshot.ts";

/** How long a kopia process may take to open the repository and reach its gate. */
const PARK_TIMEOUT_MS = 120_000;

/** One snapshot started before the stop, waiting at its gate. */
export interface GatedSnapshot {
  source: SourcePlan;
  /** False when kopia never reached the gate (it failed first, or took too long). */
  parked: boolean;
  /**
   * After `release`: resolves once kopia has read the whole tree (the after-snapshot-root action,
   * `kopia/gate.ts`), or once the snapshot ended, whichever comes first. After `abandon`: at once.
   */
  read: Promise<void>;
  /** Lets it read (the containers are stopped) and waits for its result. */
  release(): Promise<SourceResult>;
  /** Closes the gate unopened: kopia fails without reading and saves nothing. */
  abandon(reason: string): Promise<SourceResult>;
}

/**
 * Starts one gated `kopia snapshot create` per data source, all at once, while the containers still
 * run, and waits until each has opened the repository and waits at its gate (its fixed cost paid
 * outside the cold window) or has failed. A kopia process reaches the gate when it opens the fifo
 * for reading; a non-blocking open for writing succeeds from that moment, and that descriptor is the
 * one "go" is written to. `dispose` removes the fifos.
 */
/** What gated snapshots act through: no containers, no journal. */
export type GatedDeps = Pick<BackupDeps, "kopia" | "runner" | "log" | "lifecycle">;

export async function openGated(
  d: GatedDeps,
  /** Directories only: kopia runs the gate action for a directory root, never for a single file. */
  sources: readonly SourcePlan[],
  o: Omit<Parameters<typeof snapshotSource>[2], "gate" | "signal">,
  /** Ends every kopia process of these snapshots (a signal, or the cold window's bound). */
  cancel: AbortSignal = d.lifecycle.signal,
): Promise<{ gated: GatedSnapshot[]; dispose: () => void }> {
  // Removed by a compensation too: a signal that ends the run before `dispose` takes the fifos along.
  const { dir, remove } = ownedTempDir(d.lifecycle, "gates");
  const dispose = () => void remove();
  const paths = sources.map((_, i) => join(dir, `${i}.fifo`));
  try {
    await d.runner.run(["mkfifo", "-m", "600", ...paths], { timeoutMs: 30_000 });
    const gated = await Promise.all(sources.map((s, i) => openOne(d, s, paths[i] ?? "", o, cancel)));
    return { gated, dispose };
  } catch (e) {
    dispose();
    throw e;
  }
}

async function openOne(
  d: GatedDeps,
  source: SourcePlan,
  path: string,
  o: Omit<Parameters<typeof snapshotSource>[2], "gate" | "signal">,
  cancel: AbortSignal,
): Promise<GatedSnapshot> {
  let go: (open: boolean) => void = () => {};
  const released = new Promise<boolean>((r) => {
    go = r;
  });
  const abort = new AbortController();
  const onSignal = () => abort.abort(cancel.reason);
  if (cancel.aborted) abort.abort(cancel.reason);
  cancel.addEventListener("abort", onSignal, { once: true });
  let settled = false;
  const readDone = `${path}.read`;
  let readNow: () => void = () => {};
  const read = new Promise<void>((r) => {
    readNow = r;
  });
  const result = snapshotSource(d.kopia, source, {
    ...o,
    signal: abort.signal,
    gate: { path, released, readDone },
  });
  void result.finally(() => {
    settled = true;
    cancel.removeEventListener("abort", onSignal);
  });
  const deadline = performance.now() + PARK_TIMEOUT_MS;
  let fd: number | undefined;
  while (fd === undefined && !settled && !abort.signal.aborted && performance.now() < deadline) {
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch {
      await Bun.sleep(5);
    }
  }
  const failedEarly = fd === undefined;
  if (failedEarly && !settled) abort.abort();
  const close = () => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  return {
    source,
    parked: !failedEarly,
    read,
    async release() {
      const t0 = performance.now();
      try {
        if (fd !== undefined && !settled) writeSync(fd, "go\n");
      } catch {
        // EPIPE: kopia died at its gate (killed, or the action's timeout); its result says why.
      }
      close();
      go(true);
      void (async () => {
        while (!settled && !existsSync(readDone)) await Bun.sleep(2);
        readNow();
      })();
      const r = await result;
      if (failedEarly && r.snapshotId) return discardLive(d, r);
      return { ...r, durationMs: Math.round(performance.now() - t0) };
    },
    async abandon(reason) {
      close();
      go(false);
      readNow();
      const r = await result;
      // Never let through while stopped: anything it saved read live data (an action made optional
      // behind our back lets kopia go on past the closed gate).
      if (r.snapshotId) return discardLive(d, r);
      return { type: r.type, label: r.label, status: "failed", durationMs: 0, reason };
    },
  };
}

/**
 * A snapshot saved without passing its gate read live data: never a cold copy. It cannot happen with
 * the gate action in place (it fails closed); should the policy have been changed behind our back,
 * the snapshot is deleted and the source fails.
 */
async function discardLive(d: GatedDeps, r: SourceResult): Promise<SourceResult> {
  const reason = "kopia read the data before the containers were stopped (gate action missing?): discarded";
  try {
    await d.kopia.run(["snapshot", "delete", r.snapshotId ?? "", "--delete"], { timeoutMs: 300_000 });
  } catch (e) {
    d.log.error(`${r.label}: live snapshot ${r.snapshotId} could not be deleted: ${e}`);
  }
  return { type: r.type, label: r.label, status: "failed", durationMs: r.durationMs, reason };
}

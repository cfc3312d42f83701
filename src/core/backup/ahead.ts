import { createHash } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GATE_SCRIPT, READ_SCRIPT } from "../kopia/gate.ts";
import { identity } from "../kopia/policy.ts";
import { readMarker } from "../repository/saved.ts";
import { coldBound, isRealDirectory, openGates } from "./cold-window.ts";
import type { BackupDeps } from "./deps.ts";
import { isDataSource, type SourcePlan, type UnitPlan } from "./plan-model.ts";
import type { UnitProgress } from "./progress.ts";
import { isWarmPending } from "./warm-pending.ts";

/**
 * The first unit's gated snapshots, started as soon as the repository's one read (`policy export`)
 * allows, beside the rest of the run's preparation (discovery, the policy writes, the unit's hooks)
 * instead of after it: each snapshot's repository open is a kopia process start and key derivation.
 * Not beside that read itself: a gated snapshot runs every action kopia finds for its source, and
 * only that read can tell that those are kopi-docka's alone (`kopia/actions.ts`).
 *
 * Only when nothing about them can be stale or foreign:
 * - the unit is `cold` (a warm pass must come before its gated snapshots; other modes gate differently)
 *   and no warm pass of it may be left unchecked (`warm-pending.ts`), and it is not refused
 *   (`auto-remove.ts`: it reads nothing);
 * - the connection is the saved one (nothing reconnects) and the previous run found the gate action on
 *   this identity's policy for this repository (`gate-policy` in the state dir): otherwise kopia could
 *   read the live data without waiting at the gate (`gated.ts` discards such a snapshot, slowly);
 * - the read shows the gate on this identity as kopi-docka writes it and no other action kopia would
 *   run (`onlyOurActions`; `run.ts` asks before it calls `openAhead`);
 * - after the reads, no policy was written (gate, global, the unit's ignore rules): a kopia process
 *   started before a write snapshots with the old policy. Then they are dropped (each fails at its
 *   closed gate and saves nothing) and the unit opens new ones, as without this.
 */
export interface Ahead {
  unit: string;
  /** The unit's timestamp, progress and cold bound: those its gated snapshots were started with. */
  timestamp: string;
  progress?: UnitProgress;
  cold: ReturnType<typeof coldBound>;
  /** The sources they snapshot, in the unit's order. */
  sources: SourcePlan[];
  opening: Promise<Awaited<ReturnType<typeof openGates>>>;
  /** Closes every gate not taken (`why`: for the log, default a policy write); idempotent. */
  drop(why?: string): Promise<void>;
  /** The gates when `wanted` is exactly what they snapshot; after it, `drop` leaves them alone. */
  take(wanted: readonly SourcePlan[]): Promise<Awaited<ReturnType<typeof openGates>>>;
}

type AheadDeps = Pick<BackupDeps, "kopia" | "runner" | "log" | "lifecycle" | "hostname" | "now" | "progress">;

/** The sources a cold unit's gates are opened for (`unit.ts` filters the same way). */
export function gatedSources(plan: UnitPlan): SourcePlan[] {
  return plan.sources.filter((s) => isDataSource(s) && isRealDirectory(s.path));
}

/** Starts the first unit's gated snapshots when it may (see `Ahead`); undefined otherwise. */
export function openAhead(
  d: AheadDeps,
  paths: { stateDir: string; journalDir: string },
  unit: UnitPlan | undefined,
): Ahead | undefined {
  if (unit?.mode !== "cold" || unit.refused || !gateConfirmed(paths.stateDir, d)) return undefined;
  // Each would take an unchecked warm pass as its base before `unit.ts` deletes it.
  if (isWarmPending(paths.journalDir, unit.name)) return undefined;
  const sources = gatedSources(unit);
  if (sources.length === 0) return undefined;
  const timestamp = (d.now?.() ?? new Date()).toISOString();
  const progress = d.progress?.unit(unit.name);
  const cold = coldBound(d.lifecycle.signal);
  const o = { progress, hostname: d.hostname, timestamp, log: d.log, unit: unit.name };
  const opening = openGates(d, sources, o, cold.signal);
  let taken = false;
  let dropped: Promise<void> | undefined;
  return {
    unit: unit.name,
    timestamp,
    progress,
    cold,
    sources,
    opening,
    drop(why = "a policy changed") {
      if (taken) return Promise.resolve();
      dropped ??= (async () => {
        const gates = await opening;
        await Promise.all((gates?.gated ?? []).map((g) => g.abandon(`dropped: ${why}`)));
        gates?.dispose();
        d.log.debug(`${unit.name}: snapshots opened ahead were dropped (${why})`);
      })();
      return dropped;
    },
    async take(wanted) {
      const same = wanted.length === sources.length && wanted.every((s, i) => s === sources[i]);
      if (!same || dropped) return undefined;
      taken = true;
      d.log.debug(`${unit.name}: using the snapshots opened ahead, beside the repository's reads`);
      return opening;
    },
  };
}

const markerFile = (stateDir: string) => join(stateDir, "gate-policy");

/** What the gate marker holds: the gate's scripts, this identity and the repository's location. */
function gateKey(stateDir: string, d: Pick<AheadDeps, "kopia" | "hostname">): string | undefined {
  const location = readMarker(stateDir)?.location;
  if (!location) return undefined;
  return createHash("sha256")
    .update([GATE_SCRIPT, READ_SCRIPT, identity(d), location].join("\0"))
    .digest("hex");
}

function gateConfirmed(stateDir: string, d: AheadDeps): boolean {
  try {
    const key = gateKey(stateDir, d);
    return key !== undefined && readFileSync(markerFile(stateDir), "utf8").trim() === key;
  } catch {
    return false;
  }
}

/** Notes (or forgets) that this run found the gate action in place. Never throws. */
export function noteGatePolicy(
  stateDir: string,
  d: Pick<AheadDeps, "kopia" | "hostname">,
  inPlace: boolean,
): void {
  try {
    const key = gateKey(stateDir, d);
    if (inPlace && key) writeFileSync(markerFile(stateDir), `${key}\n`, { mode: 0o600 });
    else rmSync(markerFile(stateDir), { force: true });
  } catch {
    // Only a missed head start: the next run opens its snapshots after the reads.
  }
}

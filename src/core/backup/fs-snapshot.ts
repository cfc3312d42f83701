import { join } from "node:path";
import { errorMessage } from "../caught.ts";
import type { FsPlacement } from "../fs-snapshot/driver.ts";
import { snapshotName } from "../fs-snapshot/driver.ts";
import type { coldBound } from "./cold-window.ts";
import { type StoppedContainer, startUnit, stopUnit } from "./containers.ts";
import type { BackupDeps } from "./deps.ts";
import { CREATE_GIVE_UP_MS, type Frozen, freeze } from "./fs-freeze.ts";
import { readFrozen } from "./fs-read.ts";
import { type BackupPlan, isDataSource, type SourcePlan, type UnitPlan } from "./plan-model.ts";
import { discardWindow } from "./ran-meanwhile.ts";
import type { PhaseError, SourceResult } from "./result.ts";
import { settleStarted } from "./settle.ts";

/** The host paths `locateSources` must look at: the data of the plan's `fs-snapshot` units. */
export function fsSnapshotPaths(plan: BackupPlan): string[] {
  return plan.units
    .filter((u) => u.mode === "fs-snapshot")
    .flatMap((u) => u.sources.filter(isDataSource).map((s) => s.path));
}

/** Pure: the plan with each `fs-snapshot` unit's data sources told how they are read. */
export function withFsPlacements(plan: BackupPlan, placements: Record<string, FsPlacement>): BackupPlan {
  const units = plan.units.map((u) =>
    u.mode !== "fs-snapshot"
      ? u
      : {
          ...u,
          sources: u.sources.map((s) =>
            isDataSource(s)
              ? { ...s, fsSnapshot: placements[s.path] ?? { kind: "cold" as const, reason: "not looked at" } }
              : s,
          ),
        },
  );
  return { ...plan, units };
}

/** Why an `fs-snapshot` unit is backed up cold instead: a data source no driver can freeze. */
export function fsSnapshotFallback(plan: UnitPlan): string | undefined {
  const cold = plan.sources.filter((s) => isDataSource(s) && s.fsSnapshot?.kind !== "snapshot");
  if (cold.length === 0) return undefined;
  const why = cold.map(
    (s) => `${s.type} ${s.label}: ${s.fsSnapshot?.kind === "cold" ? s.fsSnapshot.reason : "not looked at"}`,
  );
  return `fs-snapshot not possible, backed up cold (${why.join("; ")})`;
}

/**
 * The `fs-snapshot` strategy for a unit whose every data source a driver can freeze: stop → one
 * read-only filesystem snapshot per volume holding data (milliseconds, whatever the size) → start →
 * each source snapshotted by kopia from the snapshot, held open and known by its id (`fs-read.ts`),
 * while the service runs, under its usual source identity and tags → the filesystem
 * snapshots removed (also on failure and signal; after a SIGKILL, `recover` removes them from the
 * journal). A volume whose snapshot fails is read cold before the start, as the `cold` mode would; one
 * whose snapshot has not returned when the cold window's bound passes (btrfs stuck in the kernel) is
 * given up on: the containers start, its sources fail, the snapshot is removed once btrfs is done.
 */
export async function frozenBackup(
  d: BackupDeps,
  plan: UnitPlan,
  runId: string,
  data: readonly SourcePlan[],
  o: {
    snap: (s: SourcePlan, signal: AbortSignal) => Promise<SourceResult>;
    record: (r: SourceResult) => void;
    policyFailed: (s: SourcePlan) => boolean;
    cold: ReturnType<typeof coldBound>;
    /** The unit's errors, added to as they happen: a stop's or start's before what it made fail. */
    errors: PhaseError[];
  },
) {
  const errors = o.errors;
  const warnings: string[] = [];
  const frozen = new Map<string, Frozen>();
  const remove = (f: Frozen) =>
    f.removal.run().catch((e) => {
      warnings.push(`${f.spec.snapshot} not removed (${errorMessage(e)}): \`kopi-docka recover\` removes it`);
    });
  // Volumes read cold in the window (no filesystem snapshot): recorded once the start shows it was cold.
  const readCold: SourceResult[] = [];
  const stop = await stopUnit(d, plan, runId);
  const allStoppedAt = performance.now();
  errors.push(...stop.errors);
  const cold = stop.errors.length === 0 && !d.lifecycle.signal.aborted;
  try {
    if (cold) {
      // The bound covers the snapshots too: a stuck disk must not keep the service down.
      if (plan.maxColdSeconds !== undefined && stop.firstStopAt !== undefined)
        o.cold.arm(plan.maxColdSeconds * 1000 - (performance.now() - stop.firstStopAt));
      for (const s of data) {
        const p = s.fsSnapshot;
        if (d.lifecycle.signal.aborted || o.cold.overrun) break;
        if (p?.kind !== "snapshot" || frozen.has(p.volume) || o.policyFailed(s)) continue;
        const spec = {
          driver: p.driver,
          volume: p.volume,
          snapshot: join(p.into, snapshotName(plan.backupId, frozen.size + 1)),
          mount: p.mount,
          volumeUuid: p.uuid,
        };
        const f = await freeze(d, spec, runId, o.cold.signal);
        frozen.set(p.volume, f);
        // A disk stuck for one snapshot is stuck for the next: no more are tried.
        if (!f.abandoned) continue;
        if (!d.lifecycle.signal.aborted)
          warnings.push(
            `${p.volume}: the ${p.driver} snapshot did not return in time (stuck in the kernel?): given up; removed once ${p.driver} is done, else by the next backup or \`kopi-docka recover\``,
          );
        break;
      }
      // A volume the driver could not freeze is read now, while the containers are stopped; none
      // once a snapshot got stuck (the disk would hang the read too).
      const stuck = [...frozen.values()].some((f) => f.abandoned);
      for (const s of data) {
        const f = s.fsSnapshot?.kind === "snapshot" ? frozen.get(s.fsSnapshot.volume) : undefined;
        if (f?.identity || o.policyFailed(s) || d.lifecycle.signal.aborted) continue;
        if (o.cold.overrun || stuck) {
          const reason = o.cold.overrun
            ? `cancelled: the cold window passed max_cold_seconds (${plan.maxColdSeconds} s)`
            : `not snapshotted: a filesystem snapshot of the unit did not return in ${CREATE_GIVE_UP_MS / 1000} s (stuck in the kernel?)`;
          o.record({ type: s.type, label: s.label, status: "failed", durationMs: 0, reason });
          continue;
        }
        warnings.push(`${s.type} ${s.label}: filesystem snapshot failed, read cold`);
        readCold.push(await o.snap(s, o.cold.signal));
      }
      o.cold.disarm();
    }
    const firstStartAt = performance.now();
    const start = await startUnit(d, plan, stop.stopped);
    errors.push(...start.errors);
    // Whether they still run a few seconds on, looked at while kopia reads the snapshots.
    const settling = settleStarted(d, plan.name, start.settling);
    // A container ran in the window: neither what was read cold nor the filesystem snapshots are cold.
    const ran = start.ranMeanwhile;
    for (const r of ran.length ? await discardWindow(d, readCold, ran, plan.name) : readCold) o.record(r);
    const windows =
      stop.firstStopAt !== undefined
        ? {
            coldWindowMs: Math.round(performance.now() - stop.firstStopAt),
            frozenWindowMs: Math.round(firstStartAt - allStoppedAt),
          }
        : {};
    const frozenOf = (s: SourcePlan) =>
      s.fsSnapshot?.kind === "snapshot" ? frozen.get(s.fsSnapshot.volume) : undefined;
    const toRead = new Map<Frozen, SourcePlan[]>();
    for (const s of data) {
      const f = frozenOf(s);
      if (!cold || o.policyFailed(s) || (f?.identity && ran.length)) {
        const reason = ran.length
          ? `not snapshotted: ${ran.join(", ")} ran while it was held stopped, not a cold copy`
          : "not snapshotted: not cold or excludes missing";
        o.record({ type: s.type, label: s.label, status: "failed", durationMs: 0, reason });
      } else if (f?.identity) toRead.set(f, [...(toRead.get(f) ?? []), s]);
    }
    // Volume by volume; each snapshot goes as soon as its sources are read: it holds space meanwhile.
    const read = { snap: o.snap, unit: plan.name };
    for (const f of frozen.values()) {
      const sources = toRead.get(f) ?? [];
      if (f.identity && sources.length > 0 && !d.lifecycle.signal.aborted)
        for (const r of await readFrozen(d, { ...f, identity: f.identity }, sources, read)) o.record(r);
      // One given up on is the run's to remove at its end (it waits for btrfs, bounded).
      if (!f.abandoned) await remove(f);
    }
    const settled = await settling;
    errors.push(...settled.errors);
    warnings.push(...start.warnings, ...settled.warnings);
    const restartFailed = [...start.restartFailed, ...settled.restartFailed];
    return { stopped: stopped(stop.stopped), restartFailed, warnings, windows };
  } finally {
    o.cold.disarm();
    o.cold.detach();
    for (const f of frozen.values()) if (!f.abandoned) await remove(f);
  }
}

const stopped = (s: readonly StoppedContainer[]) => s.map((x) => x.plan.name);

import { existsSync, lstatSync } from "node:fs";
import { join } from "node:path";
import { errorMessage } from "../caught.ts";
import type { FrozenSpec, FsPlacement, SnapshotIdentity } from "../fs-snapshot/driver.ts";
import { snapshotName } from "../fs-snapshot/driver.ts";
import { clearSnapshot, fsSnapshotJournalDir, recordSnapshot } from "../fs-snapshot/journal.ts";
import { driverNamed } from "../fs-snapshot/locate.ts";
import { type Compensation, PRIORITY } from "../safe-exit.ts";
import type { coldBound } from "./cold-window.ts";
import { type StoppedContainer, startUnit, stopUnit } from "./containers.ts";
import type { BackupDeps } from "./deps.ts";
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

interface Frozen {
  spec: FrozenSpec;
  removal: Compensation;
  made: boolean;
}

/**
 * The `fs-snapshot` strategy for a unit whose every data source a driver can freeze: stop → one
 * read-only filesystem snapshot per volume holding data (milliseconds, whatever the size) → start →
 * each source snapshotted by kopia from `<snapshot>/<relative path>` while the service runs, under its
 * usual source identity and tags → the filesystem snapshots removed (also on failure and signal; after
 * a SIGKILL, `recover` removes them from the journal). A volume whose snapshot fails is read cold
 * before the start, as the `cold` mode would.
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
        };
        frozen.set(p.volume, await freeze(d, spec, runId, o.cold.signal));
      }
      // A volume the driver could not freeze is read now, while the containers are stopped.
      for (const s of data) {
        const f = s.fsSnapshot?.kind === "snapshot" ? frozen.get(s.fsSnapshot.volume) : undefined;
        if (f?.made || o.policyFailed(s) || d.lifecycle.signal.aborted) continue;
        if (o.cold.overrun) {
          const reason = `cancelled: the cold window passed max_cold_seconds (${plan.maxColdSeconds} s)`;
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
    const volumeOf = (s: SourcePlan) => (s.fsSnapshot?.kind === "snapshot" ? s.fsSnapshot.volume : "");
    for (const [i, s] of data.entries()) {
      const p = s.fsSnapshot;
      const f = frozen.get(volumeOf(s));
      if (!cold || o.policyFailed(s) || (f?.made && ran.length)) {
        const reason = ran.length
          ? `not snapshotted: ${ran.join(", ")} ran while it was held stopped, not a cold copy`
          : "not snapshotted: not cold or excludes missing";
        o.record({ type: s.type, label: s.label, status: "failed", durationMs: 0, reason });
      } else if (f?.made && p?.kind === "snapshot" && !d.lifecycle.signal.aborted)
        o.record(await o.snap({ ...s, path: join(f.spec.snapshot, p.relative) }, d.lifecycle.signal));
      // Each snapshot goes as soon as the last source read from it is done: it holds space meanwhile.
      if (f && !data.slice(i + 1).some((x) => volumeOf(x) === volumeOf(s))) await remove(f);
    }
    const settled = await settling;
    errors.push(...settled.errors);
    warnings.push(...settled.warnings);
    const restartFailed = [...start.restartFailed, ...settled.restartFailed];
    return { stopped: stopped(stop.stopped), restartFailed, warnings, windows };
  } finally {
    o.cold.disarm();
    o.cold.detach();
    for (const f of frozen.values()) await remove(f);
  }
}

const stopped = (s: readonly StoppedContainer[]) => s.map((x) => x.plan.name);

/**
 * Journal entry (durable) → removal registered → snapshot: whenever this process ends from here on,
 * the snapshot is removed, by this run or by the next recovery. Never throws: `made` says whether
 * the snapshot exists.
 */
async function freeze(d: BackupDeps, spec: FrozenSpec, runId: string, signal: AbortSignal): Promise<Frozen> {
  const driver = driverNamed(spec.driver);
  const dir = fsSnapshotJournalDir(d.journal.dir);
  // Something already at our name is not ours: btrfs would snapshot into it (a directory), and the
  // removal below would delete it. Never touched; the volume is read cold instead.
  if (lstatSync(spec.snapshot, { throwIfNoEntry: false })) {
    d.log.warn(`${spec.snapshot} exists and is not this run's: left alone; ${spec.volume} is read cold`);
    const removal = { name: "nothing to remove", run: async () => {}, dismiss: () => {} };
    return { spec, removal, made: false };
  }
  let creating: Promise<SnapshotIdentity> | undefined;
  let identity: SnapshotIdentity | undefined;
  let made = false;
  const removal = d.lifecycle.register(`remove snapshot ${spec.snapshot}`, PRIORITY.cleanup, async () => {
    // On a signal the create may still run (a btrfs flush outlives its killed process): it settles
    // first, so a snapshot it makes after all is removed too, not left unjournaled.
    await creating?.catch(() => {});
    if (identity || existsSync(spec.snapshot)) await driver?.remove(d.runner, spec.snapshot, identity);
    clearSnapshot(dir, spec.snapshot);
  });
  try {
    if (!driver) throw new Error(`no driver ${spec.driver}`);
    const entry = { runId, driver: spec.driver, snapshot: spec.snapshot, volume: spec.volume };
    recordSnapshot(dir, entry);
    const t0 = performance.now();
    creating = driver.create(d.runner, spec, signal);
    identity = await creating;
    // Before the containers start: from now on the snapshot is removed by its id, wherever its name went.
    recordSnapshot(dir, { ...entry, identity });
    made = true;
    d.log.info(`${spec.volume}: ${spec.driver} snapshot in ${Math.round(performance.now() - t0)} ms`);
  } catch (e) {
    d.log.warn(`${spec.volume}: no filesystem snapshot (${errorMessage(e)}); reading it cold`);
    await removal.run().catch(() => {});
  }
  return { spec, removal, made };
}

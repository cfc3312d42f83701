import { errorMessage } from "../caught.ts";
import type { Unit } from "../discovery/model.ts";
import { runHook } from "../hooks.ts";
import { applyIgnoreRules } from "../kopia/policy.ts";
import type { KopiaPolicy } from "../kopia/policy-schema.ts";
import { sourceIdentity } from "../snapshot/tags.ts";
import type { Ahead } from "./ahead.ts";
import { coldBound, isRealDirectory, openGates } from "./cold-window.ts";
import { startUnit, stopUnit } from "./containers.ts";
import type { BackupDeps } from "./deps.ts";
import { dumpSource } from "./dump.ts";
import { snapshotStopped } from "./frozen.ts";
import { frozenBackup, fsSnapshotFallback } from "./fs-snapshot.ts";
import { isDataSource, type SourcePlan, type UnitPlan } from "./plan-model.ts";
import { discardWindow } from "./ran-meanwhile.ts";
import { type PhaseError, type SourceResult, savedBytes, type UnitResult } from "./result.ts";
import { settleStarted } from "./settle.ts";
import { snapshotSource } from "./snapshot.ts";
import { startNotBefore, tickOver, timestampTick } from "./timestamp-tick.ts";
import { sharedWarnings, stageSource } from "./unit-sources.ts";
import { dropPendingWarm, dropWarmBases, WARM_TAG, warmPass } from "./warm.ts";

/** Why a source with a warm pass nobody checked is not snapshotted, and what to do about it. */
const UNCHECKED_WARM = `a warm pass of it could not be deleted unchecked, and a snapshot would take files from it (delete its ${WARM_TAG} snapshots, then back up again)`;

/**
 * One unit, cold: pre hook (failure: nothing is stopped) → stage recipe/networks and snapshot them
 * while the app still runs → stop → snapshot volumes and binds → start in dependency order as soon as
 * the snapshots have read their data (`frozen.ts`), whatever happened → the snapshots end → post hook.
 * Never throws; the result says what happened.
 */
export async function backupUnit(
  d: BackupDeps,
  plan: UnitPlan,
  unit: Unit,
  runId: string,
  opts: {
    /** Data snapshots start before the stop and wait at a gate (`gated.ts`). */
    gate: boolean;
    /** The repository's defined policies, read once per run (`Kopia.policyDefinedAll`), or why not. */
    policies: Record<string, KopiaPolicy> | Error;
    /** Told when the unit's containers are about to stop (its snapshots wait at their gates). */
    onStopping?: () => void;
    /** Gated snapshots the run opened ahead for this unit (`ahead.ts`), taken only if still valid. */
    ahead?: Ahead;
    /**
     * kopia's retention is known to keep every snapshot (`kopia/policy.ts`): a warm pass, saved complete
     * so it is the cold pass's one base, then takes no retention slot and expires nothing.
     */
    keepsEverything?: boolean;
    /** Why kopia may leave files out of a snapshot now (`kopi-docka@HOST`'s whole-data policy not set). */
    notWhole?: string;
  },
): Promise<UnitResult> {
  const now = () => d.now?.() ?? new Date();
  const started = performance.now();
  const ahead = opts.ahead?.unit === plan.name ? opts.ahead : undefined;
  const timestamp = ahead?.timestamp ?? now().toISOString();
  const errors: PhaseError[] = [];
  const sources: SourceResult[] = [];
  const gaps = plan.skipped.filter((s) => s.notProtected).map((s) => `${s.kind} ${s.id}: ${s.reason}`);
  for (const g of gaps) d.log.warn(`${plan.name}: ${g}`);
  const planned = [
    ...plan.containers.flatMap((c) => (c.stopTimeoutWarning ? [c.stopTimeoutWarning] : [])),
    ...sharedWarnings(plan),
  ];
  for (const w of planned) d.log.warn(`${plan.name}: ${w}`);
  const result = (extra: Partial<UnitResult> = {}): UnitResult => {
    const warnings = [
      ...planned,
      ...(extra.warnings ?? []),
      ...sources.flatMap((s) => (s.warning ? [s.warning] : [])),
    ];
    return {
      name: plan.name,
      backupId: plan.backupId,
      timestamp,
      status: errors.length === 0 && sources.every((s) => s.status !== "failed") ? "ok" : "failed",
      sources,
      stopped: [],
      restartFailed: [],
      errors,
      durationMs: Math.round(performance.now() - started),
      bytes: savedBytes(sources),
      ...(gaps.length ? { notProtected: gaps } : {}),
      ...extra,
      ...(warnings.length ? { warnings } : {}),
    };
  };
  const hook = async (type: "pre_backup" | "post_backup", file: string | undefined) => {
    if (!file) return true;
    try {
      await runHook(d.runner, file, {
        type,
        unit: plan.name,
        runId,
        timeoutSec: d.config.backup.hooks.timeout,
        env: { KOPI_DOCKA_BACKUP_ID: plan.backupId },
        onOutputLine: (l) => d.log.debug(`${type}: ${l}`),
      });
      return true;
    } catch (e) {
      errors.push({ phase: type === "pre_backup" ? "pre_hook" : "post_hook", message: errorMessage(e) });
      return false;
    }
  };
  const progress = ahead ? ahead.progress : d.progress?.unit(plan.name);
  const snapOpts = { progress, hostname: d.hostname, timestamp, log: d.log, unit: plan.name };
  const record = (r: SourceResult) => {
    sources.push(r);
    if (r.status === "failed")
      errors.push({
        phase: "snapshot",
        item: r.label,
        message: r.reason ?? "failed",
        ...(r.stderrTail ? { stderrTail: r.stderrTail } : {}),
      });
  };
  // Ends the unit's snapshots on a signal, or when its cold window passes max_cold_seconds.
  const cold = ahead?.cold ?? coldBound(d.lifecycle.signal);
  const snap = async (s: SourcePlan) =>
    record(
      s.type === "dump"
        ? await dumpSource(d, s, { ...snapOpts, signal: cold.signal })
        : await snapshotSource(d.kopia, s, { ...snapOpts, signal: cold.signal }),
    );

  // The ones opened ahead when nothing they were started with changed since; else new ones.
  const gatesFor = async (wanted: SourcePlan[]) => {
    const early = policyWritten ? undefined : await ahead?.take(wanted);
    if (early) return early;
    await ahead?.drop();
    return openGates(d, wanted, snapOpts, cold.signal);
  };

  if (!(await hook("pre_backup", plan.hooks.preBackup))) return result();
  const ready: SourcePlan[] = [];
  for (const s of plan.sources) {
    const why = stageSource(d, s, unit, plan, timestamp);
    if (why === undefined) ready.push(s);
    else {
      sources.push({ type: s.type, label: s.label, status: "failed", durationMs: 0, reason: why });
      errors.push({ phase: "stage", item: s.label, message: why });
    }
  }
  for (const s of ready.filter((x) => !isDataSource(x))) await snap(s);
  const data = ready.filter(isDataSource);
  let policyWritten = false;
  for (const s of data) {
    // A snapshot kopia may cut short of files would be recorded as a whole one: not taken.
    if (opts.notWhole) {
      errors.push({ phase: "policy", item: s.label, message: opts.notWhole });
      continue;
    }
    try {
      if (opts.policies instanceof Error) throw opts.policies;
      const written = await applyIgnoreRules(
        d.kopia,
        opts.policies,
        sourceIdentity(d.kopia.options.username, d.hostname, s.logicalPath),
        s.excludePatterns,
      );
      if (written.length > 0) policyWritten = true;
    } catch (e) {
      errors.push({
        phase: "policy",
        item: s.label,
        message: `exclude patterns not applied: ${errorMessage(e)}`,
      });
    }
  }
  const policyFailed = (s: SourcePlan) => errors.some((e) => e.phase === "policy" && e.item === s.label);
  // A warm pass a killed run left unchecked would be the base of these snapshots: none of them then.
  // (A warm pass of this run deletes them itself first.)
  const warmOpts = { unit: plan.name, hostname: d.hostname, signal: cold.signal };
  const warms = plan.mode === "warm-then-cold" && opts.gate && opts.keepsEverything === true;
  if (!warms && !(await dropPendingWarm(d, data, warmOpts))) {
    await ahead?.drop("a warm pass left unchecked");
    for (const s of data)
      record({
        type: s.type,
        label: s.label,
        status: "failed",
        durationMs: 0,
        reason: `not snapshotted: ${UNCHECKED_WARM}`,
      });
    return result();
  }
  const fallback = plan.mode === "fs-snapshot" ? fsSnapshotFallback(plan) : undefined;
  if (fallback) d.log.warn(`${plan.name}: ${fallback}`);
  const finish = async (stopped: string[], restartFailed: string[], more: Partial<UnitResult>) => {
    if (d.lifecycle.signal.aborted) errors.push({ phase: "interrupted", message: "interrupted by a signal" });
    else await hook("post_backup", plan.hooks.postBackup);
    const warnings = [...(fallback ? [fallback] : []), ...(more.warnings ?? [])];
    return result({ stopped, restartFailed, ...more, ...(warnings.length ? { warnings } : {}) });
  };
  if (plan.mode === "fs-snapshot" && !fallback) {
    opts.onStopping?.();
    const snap = (s: SourcePlan, signal: AbortSignal) => snapshotSource(d.kopia, s, { ...snapOpts, signal });
    const f = await frozenBackup(d, plan, runId, data, { snap, record, policyFailed, cold, errors });
    return finish(f.stopped, f.restartFailed, {
      ...f.windows,
      ...(f.warnings.length ? { warnings: f.warnings } : {}),
    });
  }
  // Sources whose warm pass was left behind unchecked: a cold snapshot would take files from it.
  const unchecked = new Set<string>();
  // Before the gated snapshots start: each picks its base when it opens, the warm pass then.
  const warm = warms
    ? await warmPass(
        d,
        data.filter((s) => !policyFailed(s) && isRealDirectory(s.path)),
        { ...warmOpts, every: data },
      )
    : undefined;
  for (const label of warm?.unchecked ?? []) unchecked.add(label);
  if (plan.mode === "warm-then-cold" && !warms)
    d.log.warn(
      `${plan.name}: no warm pass (${opts.gate ? "kopia's retention policy is not known to keep every snapshot" : "the gate policy is not set"}); backing up cold`,
    );
  const gates = opts.gate
    ? await gatesFor(
        data.filter((s) => !policyFailed(s) && !unchecked.has(s.label) && isRealDirectory(s.path)),
      )
    : undefined;
  const tick = Math.max(0, ...data.map((s) => timestampTick(s.path)));
  opts.onStopping?.();
  const stop = await stopUnit(d, plan, runId);
  const allStoppedAt = performance.now();
  const startAt = startNotBefore(Date.now(), tick);
  errors.push(...stop.errors);
  if (plan.maxColdSeconds !== undefined && stop.firstStopAt !== undefined)
    cold.arm(plan.maxColdSeconds * 1000 - (performance.now() - stop.firstStopAt));
  let saving = false;
  const overrun = () =>
    saving
      ? `cancelled: its save hung for max_cold_seconds (${plan.maxColdSeconds} s) after the containers started`
      : `cancelled: the cold window passed max_cold_seconds (${plan.maxColdSeconds} s)`;
  const frozen = snapshotStopped(d, data, gates?.gated ?? [], {
    skip: (s) =>
      stop.errors.length > 0 || policyFailed(s)
        ? "not snapshotted: not cold or excludes missing"
        : unchecked.has(s.label)
          ? `not snapshotted: ${UNCHECKED_WARM}`
          : undefined,
    snap: (s) => snapshotSource(d.kopia, s, { ...snapOpts, signal: cold.signal }),
    overrun: () => (cold.overrun ? overrun() : undefined),
  });
  await frozen.read;
  cold.disarm();
  await tickOver(startAt, d.lifecycle.signal, (ms) =>
    d.log.debug(
      `${plan.name}: its data keeps whole-second timestamps: the start waits ${ms} ms for the next tick`,
    ),
  );
  const firstStartAt = performance.now();
  const start = await startUnit(d, plan, stop.stopped);
  errors.push(...start.errors);
  const coldWindowMs = stop.firstStopAt !== undefined ? performance.now() - stop.firstStopAt : undefined;
  // Whether they still run a few seconds on, looked at while kopia saves (awaited below).
  const settling = settleStarted(d, plan.name, start.settling);
  // The data is read and the containers run; kopia still saves. A repository that stops answering
  // now must not hold the run (and every unit after it) forever: the save gets the same bound again.
  saving = true;
  if (plan.maxColdSeconds !== undefined && !cold.overrun) cold.arm(plan.maxColdSeconds * 1000);
  const taken = (await frozen.taken).filter((t) => t !== undefined);
  // A container ran in the window: nothing read in it is a cold copy.
  const ran = start.ranMeanwhile;
  const results = taken.map((t) => t.result);
  const kept = ran.length ? await discardWindow(d, results, ran, plan.name) : results;
  for (const [i, t] of taken.entries())
    if (t.quiet) sources.push(kept[i] ?? t.result);
    else record(kept[i] ?? t.result);
  cold.disarm();
  cold.detach();
  gates?.dispose();
  if (warm) await dropWarmBases(d, warm, plan.name);
  const windows =
    coldWindowMs !== undefined
      ? {
          coldWindowMs: Math.round(coldWindowMs),
          frozenWindowMs: Math.round(firstStartAt - allStoppedAt),
        }
      : {};
  const settled = await settling;
  errors.push(...settled.errors);
  const startWarnings = [...start.warnings, ...settled.warnings];
  return finish(
    stop.stopped.map((s) => s.plan.name),
    [...start.restartFailed, ...settled.restartFailed],
    {
      ...windows,
      ...(startWarnings.length ? { warnings: startWarnings } : {}),
    },
  );
}

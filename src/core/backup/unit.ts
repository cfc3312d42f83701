import type { Unit } from "../discovery/model.ts";
import { runHook } from "../hooks.ts";
import { applyIgnoreRules } from "../kopia/policy.ts";
import { startUnit, stopUnit } from "./containers.ts";
import type { BackupDeps } from "./deps.ts";
import type { SourcePlan, UnitPlan } from "./plan-model.ts";
import { DOCKER_CONFIG_PATHS, stageDockerConfig, stageNetworks, stageRecipe } from "./recipe.ts";
import { type PhaseError, type SourceResult, savedBytes, type UnitResult } from "./result.ts";
import { snapshotSource } from "./snapshot.ts";

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));
const isData = (s: SourcePlan) => s.type === "volume" || s.type === "bind";

/**
 * One unit, cold: pre hook (failure: nothing is stopped) → stage recipe/networks and snapshot them
 * while the app still runs → stop → snapshot volumes and binds → start in dependency order as soon as
 * the snapshots end, whatever happened → post hook. Never throws; the result says what happened.
 */
export async function backupUnit(
  d: BackupDeps,
  plan: UnitPlan,
  unit: Unit,
  runId: string,
): Promise<UnitResult> {
  const now = () => d.now?.() ?? new Date();
  const started = performance.now();
  const timestamp = now().toISOString();
  const errors: PhaseError[] = [];
  const sources: SourceResult[] = [];
  const gaps = plan.skipped.filter((s) => s.notProtected).map((s) => `${s.kind} ${s.id}: ${s.reason}`);
  for (const g of gaps) d.log.warn(`${plan.name}: ${g}`);
  const result = (extra: Partial<UnitResult> = {}): UnitResult => ({
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
  });
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
      errors.push({ phase: type === "pre_backup" ? "pre_hook" : "post_hook", message: msg(e) });
      return false;
    }
  };
  const progress = d.progress?.unit(plan.name);
  const snap = async (s: SourcePlan) => {
    const r = await snapshotSource(d.kopia, s, {
      progress,
      hostname: d.hostname,
      timestamp,
      signal: d.lifecycle.signal,
      log: d.log,
      unit: plan.name,
    });
    sources.push(r);
    if (r.status === "failed")
      errors.push({
        phase: "snapshot",
        item: s.label,
        message: r.reason ?? "failed",
        ...(r.stderrTail ? { stderrTail: r.stderrTail } : {}),
      });
  };

  if (!(await hook("pre_backup", plan.hooks.preBackup))) return result();
  const ready: SourcePlan[] = [];
  for (const s of plan.sources) {
    const why = prepare(d, s, unit, plan, timestamp);
    if (why === undefined) ready.push(s);
    else if (why.skip)
      sources.push({ type: s.type, label: s.label, status: "skipped", durationMs: 0, reason: why.reason });
    else {
      sources.push({ type: s.type, label: s.label, status: "failed", durationMs: 0, reason: why.reason });
      errors.push({ phase: "stage", item: s.label, message: why.reason });
    }
  }
  for (const s of ready.filter((x) => !isData(x))) await snap(s);
  for (const s of ready.filter(isData)) {
    try {
      await applyIgnoreRules(
        d.kopia,
        `${d.kopia.options.username}@${d.hostname}:${s.logicalPath}`,
        s.excludePatterns,
      );
    } catch (e) {
      errors.push({ phase: "policy", item: s.label, message: `exclude patterns not applied: ${msg(e)}` });
    }
  }
  const coldStart = performance.now();
  const stop = await stopUnit(d, plan, runId);
  errors.push(...stop.errors);
  for (const s of ready.filter(isData)) {
    if (stop.errors.length > 0 || errors.some((e) => e.phase === "policy" && e.item === s.label)) {
      sources.push({
        type: s.type,
        label: s.label,
        status: "failed",
        durationMs: 0,
        reason: "not snapshotted: not cold or excludes missing",
      });
      continue;
    }
    if (d.lifecycle.signal.aborted) break;
    await snap(s);
  }
  const start = await startUnit(d, plan, stop.stopped);
  errors.push(...start.errors);
  const coldWindowMs = stop.stopped.length > 0 ? Math.round(performance.now() - coldStart) : undefined;
  if (d.lifecycle.signal.aborted) errors.push({ phase: "interrupted", message: "interrupted by a signal" });
  else await hook("post_backup", plan.hooks.postBackup);
  return result({
    stopped: stop.stopped.map((s) => s.plan.name),
    restartFailed: start.restartFailed,
    ...(coldWindowMs !== undefined ? { coldWindowMs } : {}),
  });
}

/** Stages a staged source; undefined when ready, else why it is skipped or failed. */
function prepare(d: BackupDeps, s: SourcePlan, unit: Unit, plan: UnitPlan, timestamp: string) {
  try {
    if (s.type === "recipe")
      stageRecipe(
        s.path,
        unit,
        { ...plan, sources: plan.sources.map((x) => ({ ...x, tags: { ...x.tags, timestamp } })) },
        { version: d.version },
      );
    else if (s.type === "networks") stageNetworks(s.path, unit);
    else if (
      s.type === "docker_config" &&
      !stageDockerConfig(s.path, d.dockerConfigPaths ?? DOCKER_CONFIG_PATHS)
    )
      return { skip: true, reason: "no docker daemon config on this host" };
    return undefined;
  } catch (e) {
    return { skip: false, reason: `staging failed: ${msg(e)}` };
  }
}

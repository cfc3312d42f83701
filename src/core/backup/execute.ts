import type { Discovery } from "../discovery/model.ts";
import type { KopiaPolicy, MaintenanceInfo } from "../kopia/policy-schema.ts";
import type { Ahead } from "./ahead.ts";
import type { BackupDeps } from "./deps.ts";
import { gateAndPolicies } from "./gate-policies.ts";
import { MAINTENANCE_INFO_TIMEOUT_MS } from "./maintenance.ts";
import type { BackupPlan } from "./plan-model.ts";
import { refusedResult } from "./refusals.ts";
import {
  errorsLine,
  type PhaseError,
  type RunRecord,
  runStatus,
  summaryLines,
  type UnitResult,
} from "./result.ts";
import { backupUnit } from "./unit.ts";

/**
 * Reads the caller started before the plan, side by side with its own: this identity's policy (for
 * the gate), every defined policy (the sources' ignore rules) and kopia's maintenance info (owner,
 * schedule). Without them they are read here; the maintenance info read here is left in
 * `maintenanceInfo` for the maintenance after the run.
 */
export interface EarlyReads {
  identityPolicy?: Promise<KopiaPolicy>;
  maintenanceInfo?: Promise<MaintenanceInfo>;
  /** Every defined policy (`policy export`), for the sources' ignore rules. */
  definedPolicies?: Promise<Record<string, KopiaPolicy>>;
  /** True when the run wrote its identity's policy (or may have) before the plan ran. */
  policyWritten?: boolean;
  /** kopia is known (set or read this run) to keep every snapshot of ours (`kopia/policy.ts`). */
  keepsEverything?: boolean;
  /** Why the identity's policy may let kopia leave files out (its whole-data part not in place). */
  notWhole?: string;
  /** The first unit's gated snapshots, opened beside the reads (`ahead.ts`). */
  ahead?: Promise<Ahead | undefined>;
  /** Told whether the gate action is in place on this identity's policy after the check. */
  noteGate?: (inPlace: boolean) => void;
}

/**
 * Runs the plan unit by unit. A failure in one source or unit never stops the others; every stopped
 * container is started before the next unit. Never throws for a unit's failure: the record says what
 * happened (`outcomeError` turns it into the exit status). Maintenance is the caller's, at the end.
 */
export async function executeBackup(
  d: BackupDeps,
  plan: BackupPlan,
  discovery: Discovery,
  /** Told each unit's result as it finishes (the interrupted-run record lists them). */
  onUnit?: (result: UnitResult) => void,
  early: EarlyReads = {},
): Promise<RunRecord> {
  const now = () => d.now?.() ?? new Date();
  const startedAt = now();
  const t0 = performance.now();
  const units: UnitResult[] = [];
  const errors: PhaseError[] = [];
  const { found: gateFound, policies } =
    plan.units.length > 0 ? await gateAndPolicies(d, early) : { found: undefined, policies: {} };
  const gate = gateFound !== undefined;
  if (plan.units.length > 0) early.noteGate?.(gate);
  // Started with the policy as it was before this run's writes: only valid when there were none.
  const ahead = await early.ahead;
  if (ahead && (gateFound !== "found" || early.policyWritten)) await ahead.drop();
  // Needed at the run's end only; read while the first unit's containers stop (its snapshots wait
  // at their gates then, and the CPU is free), so no process start is added to the end of the run.
  let maintenanceInfo = early.maintenanceInfo;
  // A repository server maintains its repository itself; kopia refuses maintenance from a client.
  const byServer = d.config.repository.backend === "server";
  const readMaintenanceInfo = () => {
    if (byServer) return;
    maintenanceInfo ??= d.kopia.maintenanceInfo({ timeoutMs: MAINTENANCE_INFO_TIMEOUT_MS });
    maintenanceInfo.catch(() => {});
  };
  for (const unitPlan of plan.units) {
    const unit = discovery.units.find((u) => u.name === unitPlan.name);
    if (d.lifecycle.signal.aborted || !unit) {
      const reason = unit ? "interrupted before this unit" : "unit vanished from discovery";
      units.push(skipped(unitPlan.name, unitPlan.backupId, now(), reason));
      continue;
    }
    d.log.info(
      `unit ${unitPlan.name}: ${unitPlan.sources.length} source(s), ${unitPlan.stopOrder.length} container(s) to stop`,
    );
    const r = unitPlan.refused
      ? refusedResult(unitPlan, now())
      : await backupUnit(d, unitPlan, unit, plan.runId, {
          gate,
          policies,
          ...(early.notWhole ? { notWhole: early.notWhole } : {}),
          onStopping: readMaintenanceInfo,
          ahead,
          keepsEverything: early.keepsEverything,
        });
    // Not taken (the unit ended before its snapshots, e.g. its pre hook failed): closed at once.
    if (ahead?.unit === unitPlan.name) await ahead.drop();
    units.push(r);
    onUnit?.(r);
    const cold =
      r.coldWindowMs !== undefined ? `, cold ${r.coldWindowMs} ms (frozen ${r.frozenWindowMs} ms)` : "";
    if (r.status === "ok") d.log.success(`unit ${r.name}: OK in ${r.durationMs} ms${cold}`);
    else d.log.error(`unit ${r.name}: FAILED (${errorsLine(r.errors)})`);
  }
  // Not taken (its unit was skipped): each fails at its closed gate and saves nothing.
  await ahead?.drop();
  // For the maintenance at the run's end (`maintainAfterRun`), once its outcome is final.
  early.maintenanceInfo = maintenanceInfo;
  const record: RunRecord = {
    runId: plan.runId,
    version: d.version,
    hostname: plan.hostname,
    scope: plan.scope,
    startedAt: startedAt.toISOString(),
    finishedAt: now().toISOString(),
    durationMs: Math.round(performance.now() - t0),
    status: runStatus(units),
    units,
    errors,
  };
  for (const line of summaryLines(record)) d.log.info(line);
  return record;
}

function skipped(name: string, backupId: string, at: Date, reason: string): UnitResult {
  return {
    name,
    backupId,
    timestamp: at.toISOString(),
    status: "skipped",
    sources: [],
    stopped: [],
    restartFailed: [],
    errors: [{ phase: "interrupted", message: reason }],
    durationMs: 0,
  };
}

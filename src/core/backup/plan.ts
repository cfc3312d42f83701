import type { Config } from "../../config/schema.ts";
import type { Discovery, Unit } from "../discovery/model.ts";
import { BACKUP_FORMAT } from "../snapshot/tags.ts";
import { autoRemoveRefusal } from "./auto-remove.ts";
import { heldRefusal } from "./held.ts";
import { hasHealthcheck, startOrder, stopTimeout } from "./order.ts";
import type { BackupPlan, ContainerPlan, PlanOptions, UnitPlan } from "./plan-model.ts";
import { applyRefusals } from "./refusals.ts";
import { sourceKey, unitSources } from "./sources.ts";
import { SWARM_TASK_LABEL, swarmRefusal } from "./swarm.ts";
import { unitExclusion } from "./unit-names.ts";

export type { BackupPlan, ContainerPlan, PlanOptions, SourcePlan, UnitPlan } from "./plan-model.ts";

/**
 * Decides the whole backup: which units, which containers stop (and in which order), which sources
 * are snapshotted with which tags, which hooks run, and why each thing is in or out. Pure: no I/O, no
 * clock (`now` is given), no randomness (ids derive from `opts.runId`).
 */
export function planBackup(config: Config, discovery: Discovery, now: Date, opts: PlanOptions): BackupPlan {
  const scope = opts.scope ?? config.backup.scope;
  const wanted = new Set(opts.units ?? []);
  const units: UnitPlan[] = [];
  const skippedUnits: BackupPlan["skippedUnits"] = [];
  for (const unit of discovery.units) {
    if (wanted.size > 0 && !wanted.has(unit.name)) {
      skippedUnits.push({ name: unit.name, reason: "not selected with --unit" });
      continue;
    }
    const excluded = unitExclusion(config, unit);
    if (excluded) {
      skippedUnits.push({ name: unit.name, reason: excluded });
      continue;
    }
    units.push(planUnit(config, unit, now, opts, scope, units.length + 1));
  }
  return {
    runId: opts.runId,
    createdAt: now.toISOString(),
    hostname: opts.hostname,
    scope,
    units,
    skippedUnits,
    // A refused unit reads nothing.
    estimatedBytes: units.reduce((n, u) => n + (u.refused ? 0 : u.estimatedBytes), 0),
  };
}

function planUnit(
  config: Config,
  unit: Unit,
  now: Date,
  opts: PlanOptions,
  scope: BackupPlan["scope"],
  index: number,
): UnitPlan {
  const override = config.units[unit.name];
  const backupId = `${opts.runId}-${String(index).padStart(2, "0")}`;
  const wanted: ContainerPlan[] = startOrder(unit.containers).map((c) => {
    const timeout = stopTimeout(c, override?.stop_timeout, config);
    const [action, reason]: [ContainerPlan["action"], string] = !c.running
      ? ["stays_stopped", `${c.state} before the backup: stays stopped`]
      : !c.stop
        ? ["live", "labelled kopi-docka.stop=false: backed up while running"]
        : unit.mode === "dump"
          ? ["live", "mode dump: never stopped; the unit's databases are dumped while they run"]
          : override?.stop === false
            ? ["live", `units.${unit.name}.stop = false: backed up while running`]
            : ["stop", "running: stopped for a consistent copy, started again afterwards"];
    // Only a container the run stops waits for its timeout: a warning about it matters there alone.
    if (action !== "stop") delete timeout.stopTimeoutWarning;
    return {
      id: c.id,
      name: c.name,
      ...(c.compose ? { service: c.compose.service } : {}),
      action,
      reason,
      ...timeout,
      hasHealthcheck: hasHealthcheck(c),
      restartPolicy: c.restartPolicy,
      ...(c.autoRemove ? { autoRemove: true as const } : {}),
      ...(c.labels[SWARM_TASK_LABEL] ? { swarmTask: true as const } : {}),
    };
  });
  const { containers, refused, refusedBy } = applyRefusals(wanted, [
    heldRefusal(unit.name, wanted, opts.held ?? []),
    autoRemoveRefusal(unit.name, wanted),
    swarmRefusal(unit.name, wanted),
  ]);
  const stopped = containers.filter((c) => c.action === "stop").map((c) => c.name);
  const planned = unitSources(unit, {
    config,
    scope,
    stagingDir: opts.stagingDir,
    base: {
      unit: unit.name,
      backup_id: backupId,
      run_id: opts.runId,
      backup_scope: scope,
      timestamp: now.toISOString(),
      backup_format: BACKUP_FORMAT,
      kopi_docka_version: opts.version,
    },
  });
  const sources = planned.sources.map((s) => {
    const last = opts.lastSourceBytes?.[sourceKey(unit.name, s.type, s.label)];
    return last === undefined ? s : { ...s, lastSnapshotBytes: last };
  });
  const pre = override?.pre_backup ?? config.backup.hooks.pre_backup;
  const post = override?.post_backup ?? config.backup.hooks.post_backup;
  const predicted = opts.lastColdWindows?.[unit.name];
  const maxCold = override?.max_cold_seconds ?? config.backup.max_cold_seconds;
  return {
    name: unit.name,
    mode: unit.mode,
    ...(maxCold !== undefined ? { maxColdSeconds: maxCold } : {}),
    type: unit.type,
    ...(refused ? { refused, refusedBy } : {}),
    backupId,
    containers,
    stopOrder: [...stopped].reverse(),
    startOrder: stopped,
    sources,
    skipped: [...unit.skipped, ...planned.skipped],
    hooks: { ...(pre ? { preBackup: pre } : {}), ...(post ? { postBackup: post } : {}) },
    estimatedBytes: sources.reduce((n, s) => n + (s.sizeBytes ?? s.lastSnapshotBytes ?? 0), 0),
    ...(predicted !== undefined ? { predictedColdWindowMs: predicted } : {}),
  };
}

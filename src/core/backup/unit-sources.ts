import { errorMessage } from "../caught.ts";
import type { Unit } from "../discovery/model.ts";
import { LEFT_OUT } from "../discovery/shared.ts";
import type { BackupDeps } from "./deps.ts";
import type { SourcePlan, UnitPlan } from "./plan-model.ts";
import { DOCKER_CONFIG_PATHS, stageDockerConfig, stageNetworks, stageRecipe } from "./recipe.ts";

// What a unit's backup readies before anything of it stops: its staged sources (recipe, networks,
// the daemon config, written to the staging dir and snapshotted while the app runs) and the warnings
// its plan already tells.

/** Stages a staged source; undefined when ready, else why it failed. */
export function stageSource(d: BackupDeps, s: SourcePlan, unit: Unit, plan: UnitPlan, timestamp: string) {
  try {
    if (s.type === "recipe")
      stageRecipe(
        s.path,
        unit,
        { ...plan, sources: plan.sources.map((x) => ({ ...x, tags: { ...x.tags, timestamp } })) },
        { version: d.version },
      );
    else if (s.type === "networks") stageNetworks(s.path, unit);
    // None on this host is saved too, as an empty snapshot: the point counts it (`source_count`), and
    // skipping it left every `full` point of a host without a daemon config incomplete.
    else if (
      s.type === "docker_config" &&
      !stageDockerConfig(s.path, d.dockerConfigPaths ?? DOCKER_CONFIG_PATHS)
    )
      d.log.info(`${unit.name}: no docker daemon config on this host; its snapshot records none`);
    return undefined;
  } catch (e) {
    return `staging failed: ${errorMessage(e)}`;
  }
}

/** Data another unit's running containers keep writing while this unit is stopped: read live. */
export function sharedWarnings(plan: UnitPlan): string[] {
  if (plan.stopOrder.length === 0) return []; // nothing is stopped: nothing is claimed cold
  return plan.sources
    .filter((s) => s.writtenByOthers?.length)
    .map((s) => {
      // A container left out of every unit (excluded, a one-off `compose run`) cannot join this one.
      const leftOut = s.writtenByOthers?.some((w) => w.includes(LEFT_OUT)) ?? false;
      const fix = leftOut
        ? "stop the left-out container around the backup (pre_backup / post_backup hooks), or mount the data read-only there"
        : "put them in one unit: one compose project, or standalone containers with one kopi-docka.unit label";
      return `${s.type} ${s.label} is also written by ${s.writtenByOthers?.join(", ")}, which keeps running: it was read live, not a cold copy (${fix})`;
    });
}

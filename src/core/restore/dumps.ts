import type { UnitOverride } from "../../config/schema.ts";
import { isDumpPreset, presetCommands } from "../dump/presets.ts";
import type { Renamer } from "./names.ts";
import type { RestorePoint } from "./points.ts";
import type { ContainerState } from "./types.ts";

/** One dump fed back into its database: `kopia show <object>` → `docker exec -i <container> <restore>`. */
export interface DumpStep {
  /** The container it is fed into (running at that moment). */
  container: string;
  /** The container it was dumped from. */
  from: string;
  snapshotId: string;
  object: string;
  sizeBytes: number;
  /** The restore command run in the container; from this host's config or the preset that made the dump. */
  restore: string[];
  /** The preset's readiness probe: polled before the dump is fed (a database just started). */
  ready?: string[];
  /**
   * Set when the database runs now and its dump command is known: dumped first as an undo point
   * (`phase:pre-restore`), before anything is changed.
   */
  undo?: { dump: string[]; file: string; preset?: string };
}

/**
 * The point's dumps and how each is read back. The restore command is never taken from the
 * snapshot: the unit's `restore_command` in this host's config, else the preset the config or the
 * dump's tag names (a fixed argv of `presets.ts`). What cannot be restored goes to `refusals`.
 */
export function planDumps(
  point: RestorePoint,
  unitConfig: UnitOverride | undefined,
  containers: readonly ContainerState[],
  names: Renamer,
  /** `willStart`: the plan starts the unit; `stopped`: containers it stops first (no undo dump then). */
  o: { willStart: boolean; stopped: readonly string[] },
): { dumps: DumpStep[]; refusals: string[] } {
  const dumps: DumpStep[] = [];
  const refusals: string[] = [];
  for (const d of point.dumps ?? []) {
    const container = names.container(d.container);
    const commands = dumpCommands(d.preset, unitConfig, point.unit);
    if ("problem" in commands) {
      refusals.push(`dump of ${d.container}: ${commands.problem}`);
      continue;
    }
    const running = containers.some((c) => c.name === container && c.running);
    if (!o.willStart && !running)
      refusals.push(
        `dump of ${d.container}: container ${container} is not running; start it (or restore with --start), then restore again`,
      );
    dumps.push({
      container,
      from: d.container,
      snapshotId: d.id,
      object: d.object,
      sizeBytes: d.sizeBytes,
      restore: commands.restore,
      ...(commands.ready ? { ready: commands.ready } : {}),
      ...(running && commands.dump && !o.stopped.includes(container)
        ? {
            undo: {
              dump: commands.dump,
              file: commands.file,
              ...(commands.preset ? { preset: commands.preset } : {}),
            },
          }
        : {}),
    });
  }
  return { dumps, refusals };
}

/** The restore command, and the dump command for the undo point when one is known. */
function dumpCommands(
  tagPreset: string | undefined,
  o: UnitOverride | undefined,
  unit: string,
):
  | { restore: string[]; dump?: string[]; file: string; preset?: string; ready?: string[] }
  | { problem: string } {
  if (o?.restore_command)
    return { restore: o.restore_command, file: "dump", ...(o.dump_command ? { dump: o.dump_command } : {}) };
  const preset = o?.dump ?? tagPreset;
  if (!isDumpPreset(preset))
    return { problem: `no restore command: set [units.${unit}] restore_command (or dump = "<preset>")` };
  const c = presetCommands(preset, o?.dump_path);
  return "problem" in c ? { problem: `[units.${unit}] ${c.problem}` } : { ...c, preset };
}

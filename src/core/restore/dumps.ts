import type { UnitOverride } from "../../config/schema.ts";
import { type DumpPreset, isDumpPreset, presetCommands, RESTORE_GUARDS } from "../dump/presets.ts";
import { unitOnHost, unitOnHostText } from "./host-units.ts";
import { PROJECT_LABEL, type Renamer, SERVICE_LABEL } from "./names.ts";
import type { RestorePoint } from "./points.ts";
import type { ContainerState } from "./types.ts";

/** One dump fed back into its database: `kopia show <object>` → `docker exec -i <container> <restore>`. */
export interface DumpStep {
  /**
   * The container it is fed into (running at that moment). For a compose copy (`--as`) it is the
   * service's container running at plan time, "" when none runs yet: `service` finds it when fed.
   */
  container: string;
  /**
   * A compose copy's database, fed into the container of this service of this project, looked up by
   * their labels when the dump is fed: compose names it `<as>-<service>-<n>` (v2) or `<as>_<service>_<n>`.
   */
  service?: { project: string; name: string };
  /** The container it was dumped from. */
  from: string;
  snapshotId: string;
  object: string;
  sizeBytes: number;
  /** The restore command run in the container; from this host's config or the preset that made the dump. */
  restore: string[];
  /** The preset's readiness probe: polled before the dump is fed (a database just started). */
  ready?: string[];
  /** What the restore command reads after the dump (the preset's `restoreEnd`). */
  end?: string;
  /** The preset whose restore command this is (none: the unit's own `restore_command`). */
  preset?: DumpPreset;
  /**
   * Set when the database exists now and its dump command is known: dumped as an undo point
   * (`phase:pre-restore`) before anything is changed. One that is stopped (`stopped`; the restore's
   * `--start` will start it) is started for that dump alone, and stopped again.
   */
  undo?: { dump: string[]; file: string; preset?: string; stopped?: true };
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
  /**
   * `willStart`: the plan starts the unit; `inPlace`: the unit restored under its own name;
   * `composeCopy`: a compose unit restored under a new project (`--as`), with the compose service
   * each backed-up container ran (from the recipe); `standaloneCopy`: a standalone unit under `--as`.
   */
  o: {
    willStart: boolean;
    inPlace?: string;
    composeCopy?: CopyTarget;
    standaloneCopy?: Pick<CopyTarget, "ours">;
  },
): { dumps: DumpStep[]; refusals: string[] } {
  const dumps: DumpStep[] = [];
  const refusals: string[] = [];
  for (const d of point.dumps ?? []) {
    const commands = dumpCommands(d.preset, unitConfig, point.unit);
    if ("problem" in commands) {
      refusals.push(`dump of ${d.container}: ${commands.problem}`);
      continue;
    }
    const found = feedTarget(d.container, containers, names, o);
    if ("problem" in found) {
      refusals.push(`dump of ${d.container}: ${found.problem}`);
      continue;
    }
    const { container, service, running, exists } = found;
    const target = dumpTarget({ container, ...(service ? { service } : {}) });
    if (!o.willStart && !running)
      refusals.push(
        `dump of ${d.container}: ${target} is not running; start it (or restore with --start), then restore again`,
      );
    dumps.push({
      container,
      ...(service ? { service } : {}),
      from: d.container,
      snapshotId: d.id,
      object: d.object,
      sizeBytes: d.sizeBytes,
      restore: commands.restore,
      ...(commands.ready ? { ready: commands.ready } : {}),
      ...(commands.restoreEnd ? { end: commands.restoreEnd } : {}),
      ...(commands.preset ? { preset: commands.preset } : {}),
      // Running now: its undo dump is taken before anything stops it (one of its binds restored too).
      // Stopped, and started by `--start`: started briefly for its undo dump, before anything is replaced.
      ...((running || (exists && o.willStart)) && commands.dump
        ? {
            undo: {
              dump: commands.dump,
              file: commands.file,
              ...(commands.preset ? { preset: commands.preset } : {}),
              ...(running ? {} : { stopped: true as const }),
            },
          }
        : {}),
    });
  }
  return { dumps, refusals };
}

/** What a dump is fed through: `argv` in its container, with `env` (`docker exec -e`), reading `prelude` first. */
export interface FeedCommand {
  argv: string[];
  env?: Record<string, string>;
  prelude?: string;
}

/**
 * The command a dump is fed through: the step's restore command with its preset's guard, or, when the
 * preset's usual database is missing at the feed (`missingDatabase`), the one that connects to another
 * and makes it first. The feed runs it and the plan shows it: one builder, so they cannot differ.
 */
export function feedCommand(
  step: Pick<DumpStep, "restore" | "preset">,
  missingDatabase = false,
): FeedCommand {
  const guard = step.preset ? RESTORE_GUARDS[step.preset] : undefined;
  const missing = missingDatabase ? guard?.missingDatabase : undefined;
  const prelude = missing ? `${missing.create}${guard?.prelude ?? ""}` : guard?.prelude;
  return {
    argv: missing ? missing.restore : step.restore,
    ...(guard?.env ? { env: guard.env } : {}),
    ...(prelude !== undefined ? { prelude } : {}),
  };
}

/** Where a dump is fed, for people: the container, or "service S of project P" for a compose copy. */
export function dumpTarget(step: Pick<DumpStep, "container" | "service">): string {
  return step.service
    ? `service ${step.service.name} of project ${step.service.project}`
    : `container ${step.container}`;
}

/**
 * The container a dump goes into. In place, or a standalone copy: the (renamed) container itself.
 * A compose copy: its service's container under the new project, found by labels (running now or not).
 */
function feedTarget(
  from: string,
  containers: readonly ContainerState[],
  names: Renamer,
  o: { composeCopy?: CopyTarget; standaloneCopy?: Pick<CopyTarget, "ours">; inPlace?: string },
):
  | { container: string; service?: DumpStep["service"]; running: boolean; exists: boolean }
  | { problem: string } {
  const copy = o.composeCopy;
  const inPlace = o.inPlace;
  if (!copy) {
    const container = names.container(from);
    const now = containers.find((c) => c.name === container);
    // A standalone copy's name may be any container's on this host: only one a copy of this unit
    // started (its label) is fed, or one `--start` creates.
    if (now && o.standaloneCopy && !o.standaloneCopy.ours(now))
      return {
        problem: `container ${container} exists and is not a copy made by kopi-docka: its database is not replaced; choose another --as name`,
      };
    // The name comes from the snapshot's tag: in place, only a container of this unit (by its labels on
    // this host, as discovery groups it: not by a unit label an untrusted image set) is fed, never
    // another unit's that happens to bear it.
    if (now && inPlace !== undefined && unitOnHost(now) !== inPlace)
      return {
        problem: `container ${container} on this host belongs to ${unitOnHostText(now)}, not ${inPlace}: its database is not replaced`,
      };
    return { container, running: Boolean(now?.running), exists: now !== undefined };
  }
  const name = copy.serviceOf(from);
  if (!name)
    return {
      problem: `the recipe names no compose service for ${from}, so the copy's container is unknown; restore in place, or restore the copy and feed the dump by hand`,
    };
  const service = { project: copy.project, name };
  const now = containers.filter(
    (c) => c.running && c.labels?.[PROJECT_LABEL] === copy.project && c.labels?.[SERVICE_LABEL] === name,
  );
  if (now.length > 1)
    return {
      problem: `${now.length} containers of ${dumpTarget({ container: "", service })} run (${now.map((c) => c.name).join(", ")}); scale it to one, then restore again`,
    };
  const [running] = now;
  // Project NAME may be another's on this host: only a copy of this unit's container is fed.
  if (running && !copy.ours(running))
    return {
      problem: `${running.name} of compose project ${copy.project} is not a copy made by kopi-docka (it mounts no volume of one): its database is not replaced; choose another --as name`,
    };
  // A copy's stopped container is not seen here (it holds only what an earlier copy restore fed it).
  return { container: running?.name ?? "", service, running: Boolean(running), exists: Boolean(running) };
}

/** A compose copy's project, the service of each original container, and whose containers are its own. */
interface CopyTarget {
  project: string;
  serviceOf: (container: string) => string | undefined;
  ours: (c: ContainerState) => boolean;
}

/** The restore command, and the dump command for the undo point when one is known. */
function dumpCommands(
  tagPreset: string | undefined,
  o: UnitOverride | undefined,
  unit: string,
):
  | {
      restore: string[];
      dump?: string[];
      file: string;
      preset?: DumpPreset;
      ready?: string[];
      restoreEnd?: string;
    }
  | { problem: string } {
  if (o?.restore_command)
    return { restore: o.restore_command, file: "dump", ...(o.dump_command ? { dump: o.dump_command } : {}) };
  const preset = o?.dump ?? tagPreset;
  // The config changed since the backup: another preset's restore command would fail half way, or
  // load a dump it misreads. (mysql and mariadb read each other's dumps.)
  if (o?.dump && isDumpPreset(tagPreset) && family(tagPreset) !== family(o.dump))
    return {
      problem: `it was made by the ${tagPreset} preset, but [units.${unit}] dump = "${o.dump}" now; set dump = "${tagPreset}" (or a restore_command that reads a ${tagPreset} dump) for this restore`,
    };
  if (!isDumpPreset(preset))
    return { problem: `no restore command: set [units.${unit}] restore_command (or dump = "<preset>")` };
  const c = presetCommands(preset, o?.dump_path);
  return "problem" in c ? { problem: `[units.${unit}] ${c.problem}` } : { ...c, preset };
}

/** Presets whose dumps the other's restore command reads. */
const family = (preset: string) => (preset === "mariadb" ? "mysql" : preset);

import type { UnitOverride } from "../../config/schema.ts";
import type { Docker } from "../docker/docker.ts";
import { pipeChecked } from "../dump/pipe.ts";
import { isDumpPreset, presetCommands } from "../dump/presets.ts";
import { AppError } from "../errors.ts";
import type { Kopia } from "../kopia/kopia.ts";
import type { Logger } from "../log.ts";
import { redactText } from "../snapshot/redact.ts";
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
  willStart: boolean,
): { dumps: DumpStep[]; refusals: string[] } {
  const dumps: DumpStep[] = [];
  const refusals: string[] = [];
  for (const d of point.dumps ?? []) {
    const container = names.container(d.container);
    const restore = restoreCommand(d.preset, unitConfig, point.unit);
    if ("problem" in restore) {
      refusals.push(`dump of ${d.container}: ${restore.problem}`);
      continue;
    }
    if (!willStart && !containers.some((c) => c.name === container && c.running))
      refusals.push(
        `dump of ${d.container}: container ${container} is not running; start it (or restore with --start), then restore again`,
      );
    dumps.push({
      container,
      from: d.container,
      snapshotId: d.id,
      object: d.object,
      sizeBytes: d.sizeBytes,
      restore: restore.argv,
    });
  }
  return { dumps, refusals };
}

function restoreCommand(
  tagPreset: string | undefined,
  o: UnitOverride | undefined,
  unit: string,
): { argv: string[] } | { problem: string } {
  if (o?.restore_command) return { argv: o.restore_command };
  const preset = o?.dump ?? tagPreset;
  if (!isDumpPreset(preset))
    return { problem: `no restore command: set [units.${unit}] restore_command (or dump = "<preset>")` };
  const c = presetCommands(preset, o?.dump_path);
  return "problem" in c ? { problem: `[units.${unit}] ${c.problem}` } : { argv: c.restore };
}

/** Feeds one dump into its running container. Throws an `AppError` naming what failed. */
export async function restoreDump(
  d: { docker: Docker; kopia: Kopia; log: Logger },
  step: DumpStep,
  signal?: AbortSignal,
): Promise<void> {
  if (!(await d.docker.isRunning(step.container)))
    throw new AppError(
      "restore_failed",
      `container ${step.container} is not running: the dump cannot be fed back`,
    );
  d.log.info(`feeding the dump of ${step.from} into ${step.container} (${step.restore[0]})`);
  const r = await pipeChecked(
    (give, s) => d.kopia.showStream(step.object, { stdoutStream: give, signal: s }),
    (stdin, s) => d.docker.containerExec(step.container, step.restore, { stdin, signal: s }),
    signal,
  );
  if (r.producer.exitCode !== 0)
    throw new AppError(
      "restore_failed",
      `reading the dump ${step.snapshotId} failed (kopia exited ${r.producer.exitCode}): ${tail(r.producer.stderr)}`,
    );
  if (r.consumer.exitCode !== 0)
    throw new AppError(
      "restore_failed",
      `\`${step.restore[0]}\` in ${step.container} exited ${r.consumer.exitCode ?? r.consumer.signal}: ${tail(r.consumer.stderr)}`,
    );
}

const tail = (s: string) =>
  redactText(s).trim().split("\n").filter(Boolean).slice(-3).join(" / ") || "no error message";

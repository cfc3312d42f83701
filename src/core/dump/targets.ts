import type { Config } from "../../config/schema.ts";
import { KD } from "../discovery/labels.ts";
import type { ContainerInfo, Unit } from "../discovery/model.ts";
import { DUMP_PRESETS, type DumpCommands, isDumpPreset, presetCommands } from "./presets.ts";

/** One container of a `dump` unit and the commands that dump and restore its database. */
export interface DumpTarget {
  container: string;
  /** Set when it cannot be dumped: the unit fails with this, nothing is run. */
  problem?: string;
  commands?: DumpCommands;
  preset?: string;
}

/**
 * Which containers of a `mode = "dump"` unit are dumped, and how. Pure. The container: the config's
 * `dump_container` (name or compose service), else those labelled `kopi-docka.dump` or
 * `kopi-docka.mode=dump`, else the unit's only container. The commands: the config's `dump_command`
 * + `restore_command`, else its `dump` preset, else the container's `kopi-docka.dump` label, which
 * may only name a preset (a label never brings a command of its own).
 */
export function dumpTargets(unit: Unit, config: Config): DumpTarget[] {
  const o = config.units[unit.name];
  const where = `[units.${unit.name}]`;
  let chosen: ContainerInfo[];
  if (o?.dump_container) {
    const want = o.dump_container;
    chosen = unit.containers.filter((c) => c.name === want || c.compose?.service === want);
    if (chosen.length === 0)
      return [
        { container: want, problem: `${where} dump_container = "${want}" names no container of the unit` },
      ];
  } else {
    chosen = unit.containers.filter((c) => c.dump !== undefined || c.mode === "dump");
    if (chosen.length === 0 && unit.containers.length === 1) chosen = [...unit.containers];
    if (chosen.length === 0)
      return [
        {
          container: "",
          problem: `mode dump: which container to dump is not said; set ${where} dump_container or label it ${KD.dump}=<preset>`,
        },
      ];
  }
  return chosen.map((c) => target(c, o, where));
}

function target(c: ContainerInfo, o: Config["units"][string] | undefined, where: string): DumpTarget {
  const base = { container: c.name };
  if (!c.running) return { ...base, problem: `${c.name} is not running: there is no database to dump` };
  if (o?.dump_command) {
    if (!o.restore_command)
      return { ...base, problem: `${where} dump_command needs restore_command (what reads the dump back)` };
    return { ...base, commands: { dump: o.dump_command, restore: o.restore_command, file: "dump" } };
  }
  const preset = o?.dump ?? c.dump;
  if (preset === undefined)
    return {
      ...base,
      problem: `no dump command for ${c.name}: set ${where} dump = "<preset>" (${DUMP_PRESETS.join(", ")}) or dump_command`,
    };
  if (!isDumpPreset(preset))
    return {
      ...base,
      problem: `label ${KD.dump}=${JSON.stringify(preset)} on ${c.name} is not a preset (${DUMP_PRESETS.join(", ")}); a command of one's own goes in ${where} dump_command`,
    };
  const commands = presetCommands(preset, o?.dump_path);
  if ("problem" in commands) return { ...base, problem: `${where} ${commands.problem}` };
  return { ...base, commands, preset };
}

import type { Config } from "../../config/schema.ts";
import type { Discovery, Unit } from "../discovery/model.ts";
import type { ContainerInspect } from "../docker/schemas.ts";
import type { HeldContainer } from "./held.ts";

/**
 * Why each `--unit` name no unit has is none, when it names a container: the admin typed the name
 * `docker ps` shows, and "no unit named X" alone sends them looking for a typo. A container of a unit
 * names its unit; a stopped standalone container is no unit (nothing of it is in use), and one a
 * restore left held says so, since backing it up would save half-restored data as the newest point.
 * Names are untrusted text from docker: they are only quoted back.
 */
export function unknownUnitReasons(
  names: readonly string[],
  discovery: Discovery,
  found: readonly ContainerInspect[],
  held: readonly HeldContainer[],
): string[] {
  return names.flatMap((name) => {
    const owner = discovery.units.find((u) => u.containers.some((c) => c.name === name));
    if (owner) return [`${name} is a container of unit ${owner.name}: back it up with --unit ${owner.name}`];
    const c = found.find((x) => x.Name.replace(/^\//, "") === name);
    if (!c) return [];
    const project = c.Config.Labels?.["com.docker.compose.project"];
    if (project) return [`${name} is a container of compose project ${project}: its unit is ${project}`];
    const h = held.find((x) => x.name === name);
    if (h)
      return [
        `${name} is held stopped by a restore of unit ${h.unit} that did not finish (${h.hold}): restore it again, or, if its data is known good, start it (docker start ${name}), then back up`,
      ];
    if (!c.State.Running)
      return [
        `${name} is a stopped container (${c.State.Status}): only running standalone containers are units; start it (docker start ${name}), then back up`,
      ];
    return [];
  });
}

/**
 * Why `unit` is not backed up, when it is not: discovery's reason (a `kopi-docka.exclude` label on
 * every container, `[units.X] exclude = true`, a name that could become a path), or the config's.
 */
export function unitExclusion(config: Config, unit: Unit): string | undefined {
  return unit.excluded ?? (config.units[unit.name]?.exclude ? "excluded in the config" : undefined);
}

/**
 * Each `--unit` name whose unit is excluded, with the reason and how to include it. Naming one is no
 * request to back it up anyway: a run of nothing would be recorded `ok` and its heartbeat and alert
 * say success, while the unit the admin asked for is not backed up at all.
 */
export function excludedUnitReasons(
  names: readonly string[],
  discovery: Discovery,
  config: Config,
): string[] {
  return discovery.units.flatMap((u) => {
    const why = names.includes(u.name) ? unitExclusion(config, u) : undefined;
    return why ? [`${u.name} is excluded (${why}): ${howToInclude(u.name, why)}`] : [];
  });
}

function howToInclude(unit: string, why: string): string {
  if (why.includes("exclude = true") || why === "excluded in the config")
    return `remove \`exclude = true\` from [units.${unit}] in the config to back it up`;
  if (why.includes("kopi-docka.exclude=true"))
    return "remove the label kopi-docka.exclude from its containers (recreate them: labels are fixed at creation) to back it up";
  if (why.startsWith("invalid "))
    return "a unit's name becomes part of paths and tags: give it a valid one (the compose project's name, or the container's name or kopi-docka.unit label) to back it up";
  return "`kopi-docka list` shows why; only a unit it lists as included is backed up";
}

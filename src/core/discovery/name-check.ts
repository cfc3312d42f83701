import { nameProblem } from "../names-rules.ts";
import type { Unit } from "./model.ts";

/**
 * Applies Docker's and compose's name rules to a unit (its name may come from a label an image set):
 * a unit with a bad name is excluded, a container, volume or network with one is skipped, each with
 * the reason `list` shows. Nothing is ever backed up under a name that could become a path.
 */
export function checkNames(unit: Unit): Unit {
  const bad = nameProblem(unit.type === "compose" ? "compose project" : "unit", unit.name);
  if (bad) unit.excluded ??= bad;
  const keep = <T extends { name: string }>(items: T[], kind: "container" | "volume" | "network") =>
    items.filter((i) => {
      const why = nameProblem(kind, i.name);
      if (why) unit.skipped.push({ kind, id: i.name, reason: why });
      return !why;
    });
  unit.containers = keep(unit.containers, "container");
  unit.volumes = keep(unit.volumes, "volume");
  unit.networks = keep(unit.networks, "network");
  if (unit.containers.length === 0) unit.excluded ??= "no container with a valid name";
  return unit;
}

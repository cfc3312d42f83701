import type { Discovery } from "../discovery/model.ts";
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

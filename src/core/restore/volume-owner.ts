import { unitOnHost, unitOnHostText } from "./host-units.ts";
import { PROJECT_LABEL } from "./names.ts";
import type { CurrentState, VolumeStep } from "./types.ts";

/**
 * In place, an existing volume the point names is replaced only when nothing on this host says it is
 * another unit's. The name comes from the snapshot: another host's (`--from-host`), or a name reused
 * since, so `pgdata` may now hold another app's database, which would be replaced and started again
 * on this unit's data. Its owners are what discovery would say: the unit of every container mounting
 * it (running or not; a `kopi-docka.unit` label an untrusted image set does not count, as for
 * discovery), and the compose project its labels name. A volume nothing names is this one's,
 * and so is one any of its owners is this unit (a volume it shares with another unit's container).
 */
export function foreignVolumeRefusals(
  unit: { name: string; project: string | undefined },
  volumes: readonly VolumeStep[],
  state: Pick<CurrentState, "volumes" | "containers">,
): string[] {
  const ours = new Set([unit.name, ...(unit.project ? [unit.project] : [])]);
  return volumes
    .filter((v) => v.action === "overwrite")
    .flatMap((v) => {
      const users = state.containers.filter((c) => c.volumes.includes(v.name));
      const labelled = state.volumes[v.name]?.labels?.[PROJECT_LABEL];
      const owners = [...users.map(unitOnHost), ...(labelled ? [labelled] : [])];
      if (owners.some((o) => o !== undefined && ours.has(o))) return [];
      // A user whose unit cannot be told (`unitOnHost`) is another unit's: it never makes a volume ours.
      const foreign = [
        ...new Set([...users.map(unitOnHostText), ...(labelled ? [`unit ${labelled}`] : [])]),
      ].sort();
      if (foreign.length === 0) return [];
      const by = users.length ? ` (mounted by ${users.map((c) => c.name).join(", ")})` : "";
      return [
        `volume ${v.name} on this host belongs to ${foreign.join(", ")}${by}, not ${unit.name}: ` +
          `restoring in place would replace its data; restore a copy beside it (--as NAME), or remove or rename that volume first`,
      ];
    });
}

import { pathsOverlap } from "../discovery/bind-filter.ts";
import { bindDevice } from "./names.ts";
import type { RestorePoint } from "./points.ts";
import type { BindStep, ContainerState, CurrentState, VolumeStep } from "./types.ts";

/** The label each volume a copy creates carries: the unit it is a copy of. */
export const COPY_OF_LABEL = "kopi-docka.copy-of";

/**
 * Is container `c` a copy of `unit`: labelled so by the restore that started it (a standalone copy),
 * or mounting a volume a copy of `unit` created?
 */
export function isCopyOf(c: ContainerState, unit: string, state: Pick<CurrentState, "volumes">): boolean {
  return (
    c.labels?.[COPY_OF_LABEL] === unit ||
    c.volumes.some((v) => state.volumes[v]?.labels?.[COPY_OF_LABEL] === unit)
  );
}

/**
 * A copy (`--as NAME`) writes only into what a copy of this unit made, or what does not exist yet:
 * NAME may be another project's on this host (its `NAME_db` volume is then that project's data), or
 * the original's own, and `--target-dir` may be the original's working dir (its relative binds would
 * map onto themselves). Each is refused before anything changes, with or without `--start`.
 */
export function copyOwnerRefusals(a: {
  point: RestorePoint;
  as: string;
  project: string | undefined;
  state: CurrentState;
  volumes: readonly VolumeStep[];
  binds: readonly BindStep[];
  /** The `device` directories of the original's bind volumes (its recipe): live data of the original. */
  originalDevices: readonly string[];
}): string[] {
  const out: string[] = [];
  if (a.as === a.point.unit || a.as === a.project)
    out.push(
      `--as ${a.as} is the original's own name: the copy would be the original; restore in place (without --as), or choose another name`,
    );
  for (const v of a.volumes.filter((x) => x.action === "overwrite")) {
    const labels = a.state.volumes[v.name]?.labels ?? {};
    if (labels[COPY_OF_LABEL] === a.point.unit) continue;
    const owner = labels["com.docker.compose.project"];
    out.push(
      `volume ${v.name} exists and is not a copy of ${a.point.unit} made by kopi-docka${owner ? ` (it is compose project ${owner}'s)` : ""}: the copy would replace its data; choose another --as name, or remove that volume first if it is an old copy`,
    );
  }
  const originals = a.point.binds.map((b) => b.source);
  // A copy's bind volume keeps its data in its own device dir (`copyBindPath`): with `--target-dir`
  // at the original's working dir that maps onto the original's device, whose containers run on.
  for (const v of a.volumes) {
    const device = bindDevice(v.options);
    const hit =
      device && [...originals, ...a.originalDevices].find((o) => o === "/" || pathsOverlap(device, o));
    if (hit)
      out.push(
        `volume ${v.name} would keep its data in ${device}, onto the original's ${hit}: give the copy its own --target-dir`,
      );
  }
  for (const b of a.binds) {
    // An original bind of `/` (a forged point) holds every path: refused too.
    const hit = originals.find((o) => o === "/" || pathsOverlap(b.path, o));
    if (hit)
      out.push(
        `bind ${b.from} would be restored to ${b.path}, onto the original's ${hit}: give the copy its own --target-dir`,
      );
  }
  return out;
}

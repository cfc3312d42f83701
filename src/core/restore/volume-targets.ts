import { volumeData } from "../discovery/volume-data.ts";
import { createsWithSecret } from "./plan-steps.ts";
import type { CurrentState, RestorePlan, VolumeStep } from "./types.ts";

export interface VolumeTargets {
  refusals: string[];
  /** Device directories that hold data now: kept in the undo point, their users stopped. */
  undo: RestorePlan["undo"];
}

/**
 * Where each planned volume's data goes, judged before anything is stopped or written (the executor
 * checks again, too late to leave everything as it was):
 * - a volume this host cannot restore into (its data elsewhere, or in a host-internal directory) is
 *   refused, existing or to be created;
 * - a bind volume to create writes into its device directory, a path the recipe names (untrusted): a
 *   symlink at or above it, or something else than a directory there, is refused; one holding data
 *   (the volume removed, its files left) goes into the undo point before it is replaced.
 */
export function volumeTargets(volumes: readonly VolumeStep[], state: CurrentState): VolumeTargets {
  const out: VolumeTargets = { refusals: [], undo: [] };
  const refuse = (v: VolumeStep, why: string) => out.refusals.push(`volume ${v.name}: ${why}`);
  for (const v of volumes) {
    if (v.action === "overwrite") {
      const why = state.volumes[v.name]?.notProtected;
      if (why) refuse(v, `this host cannot restore into it: ${why}`);
      continue;
    }
    if (createsWithSecret(v)) continue; // refused already, saying what to do
    const data = volumeData({ driver: v.driver, options: v.options, mountpoint: "" }, state.hostInternal);
    if (data.kind === "not_protected") refuse(v, `this host cannot restore into it: ${data.reason}`);
    if (data.kind !== "device") continue;
    const link = state.symlinks?.[data.path];
    if (link)
      refuse(
        v,
        `its device directory ${data.path} has a symlink, ${link.link} (to ${link.to}), that the backup did not record; nothing is restored through it. Remove the link, or restore a copy with --as`,
      );
    const there = state.devices?.[data.path];
    if (there === "other") refuse(v, `its device path ${data.path} is not a directory; move it away first`);
    if (there === "data") out.undo.push({ kind: "volume", name: v.name, path: data.path });
  }
  return out;
}

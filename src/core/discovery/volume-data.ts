import { posix } from "node:path";
import { CONTROL_CHARS } from "../../config/schema-fields.ts";
import type { VolumeInspect } from "../docker/schemas.ts";
import { type BindFilterConfig, hostInternalReason } from "./bind-filter.ts";

/** Where a volume's data really lives on this host, as far as a cold backup can read it. */
export type VolumeData =
  /** A plain local volume: its files are in the mountpoint whether or not a container runs. */
  | { kind: "mountpoint"; path: string }
  /** `local` with `o=bind` and a `device`: the files are in the device directory. */
  | { kind: "device"; path: string }
  /** Nothing on this host holds the data while its containers are stopped. */
  | { kind: "not_protected"; reason: string };

export interface VolumeFacts {
  driver: string;
  options: Record<string, string>;
  mountpoint: string;
}

/**
 * Docker mounts a `local` volume that has driver options (`type=nfs`, `type=cifs`, `o=bind` with a
 * `device`, a block device) only while a container uses it, and unmounts it when the last one stops: a
 * cold backup of the mountpoint would read an empty directory and report success. A bind volume is
 * read from its device directory instead; anything else cannot be protected from this host, and says
 * so. A volume of another driver keeps its data wherever that driver puts it.
 */
export function volumeData(v: VolumeFacts, backup?: BindFilterConfig): VolumeData {
  if (v.driver !== "local") {
    return {
      kind: "not_protected",
      reason: `volume driver "${v.driver}" keeps the data outside this host's volume directory; back it up where it is stored`,
    };
  }
  const { type, o, device } = v.options;
  const flags = (o ?? "").split(",").map((f) => f.trim());
  if (type === undefined && o === undefined && device === undefined) {
    return { kind: "mountpoint", path: v.mountpoint };
  }
  if (flags.includes("bind") || flags.includes("rbind")) {
    if (!device) return { kind: "mountpoint", path: v.mountpoint };
    if (!device.startsWith("/") || CONTROL_CHARS.test(device) || device.split("/").includes("..")) {
      return {
        kind: "not_protected",
        reason: `bind volume with an unusable device path ${JSON.stringify(device)}`,
      };
    }
    const path = posix.normalize(device).replace(/(.)\/+$/, "$1");
    const internal = backup && hostInternalReason(path, backup);
    if (internal) return { kind: "not_protected", reason: `bind volume of ${path}: ${internal}` };
    return { kind: "device", path };
  }
  if (type === "tmpfs") return { kind: "not_protected", reason: "type=tmpfs: memory only" };
  if (type === undefined && device === undefined) return { kind: "mountpoint", path: v.mountpoint };
  const what = type ? `type=${type}` : `device ${device}`;
  return {
    kind: "not_protected",
    reason: `${what}: Docker mounts it only while a container uses it, so a cold backup would read an empty directory; back it up at its source`,
  };
}

/** The facts `volumeData` needs, from one `docker volume inspect` object. */
export function volumeFacts(v: VolumeInspect): VolumeFacts {
  return { driver: v.Driver, options: v.Options, mountpoint: v.Mountpoint };
}

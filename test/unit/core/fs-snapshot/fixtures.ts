/** `btrfs subvolume show` as btrfs-progs 6.2 prints it (abridged: no quota lines). */
export function showText(o: {
  path?: string;
  id: number;
  uuid: string;
  parent?: string;
  generation?: number;
  readonly?: boolean;
}): string {
  const path = o.path ?? "vol/.snap";
  return [
    path,
    `\tName: \t\t\t${path.split("/").at(-1)}`,
    `\tUUID: \t\t\t${o.uuid}`,
    `\tParent UUID: \t\t${o.parent ?? "-"}`,
    "\tReceived UUID: \t\t-",
    "\tCreation time: \t\t2025-01-01 00:00:00 +0000",
    `\tSubvolume ID: \t\t${o.id}`,
    `\tGeneration: \t\t${o.generation ?? 9}`,
    `\tGen at creation: \t${o.generation ?? 9}`,
    "\tParent ID: \t\t256",
    "\tTop level ID: \t\t256",
    `\tFlags: \t\t\t${o.readonly === false ? "-" : "readonly"}`,
    "\tSnapshot(s):",
    "",
  ].join("\n");
}

/** A volume's UUID and a snapshot's, for the fakes. */
export const VOLUME_UUID = "b48ca506-47dc-e546-a961-cf7843f3f75f";
export const SNAP_UUID = "08743b55-973f-7545-a23e-d04eab01bc5c";

/** A line of `btrfs subvolume list -q -u` as btrfs-progs 6.2 prints it. */
export function listLine(o: {
  id: number;
  uuid: string;
  parent?: string;
  generation?: number;
  path?: string;
}) {
  const parent = o.parent ?? "-                                   ";
  return `ID ${o.id} gen ${o.generation ?? 9} top level 256 parent_uuid ${parent} uuid ${o.uuid} path ${o.path ?? `vol/s${o.id}`}`;
}

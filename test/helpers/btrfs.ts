/** Filesystems on loop devices (sparse files), mounted: btrfs for the fs-snapshot test and bench/downtime.ts, others. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { run } from "./env.ts";

export interface Btrfs {
  mnt: string;
  remove(): Promise<void>;
}

/** Makes and mounts a btrfs of `bytes` (sparse) under `dir`; `remove` unmounts and frees the loop. */
export function makeBtrfs(dir: string, bytes: number): Promise<Btrfs> {
  return makeLoopFs(dir, "btrfs", bytes, ["mkfs.btrfs", "-q"]);
}

/**
 * Makes a filesystem with `mkfs` (its argv, the device appended) on a sparse loop file under `dir`,
 * mounted at `<dir>/<name>`; `remove` unmounts it and frees the loop device.
 */
export async function makeLoopFs(dir: string, name: string, bytes: number, mkfs: string[]): Promise<Btrfs> {
  const img = join(dir, `${name}.img`);
  const mnt = join(dir, name);
  await run(["truncate", "-s", String(bytes), img]);
  const loop = (await run(["losetup", "-f", "--show", img])).stdout.trim();
  const remove = async () => {
    await run(["umount", "-l", mnt], { check: false });
    await run(["losetup", "-d", loop], { check: false });
  };
  try {
    await run([...mkfs, loop]);
    mkdirSync(mnt);
    await run(["mount", loop, mnt]);
  } catch (e) {
    await remove();
    throw e;
  }
  return { mnt, remove };
}

/** A `local` volume whose data is the directory `device` (docker's bind volume), made now. */
export async function bindVolume(name: string, device: string): Promise<void> {
  mkdirSync(device, { recursive: true });
  await run([
    "docker",
    "volume",
    "create",
    "-d",
    "local",
    "-o",
    "type=none",
    "-o",
    "o=bind",
    "-o",
    `device=${device}`,
    name,
  ]);
}

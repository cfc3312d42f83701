/** A btrfs on a loop device (a sparse file), mounted: for the fs-snapshot test and bench/downtime.ts. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { run } from "./env.ts";

export interface Btrfs {
  mnt: string;
  remove(): Promise<void>;
}

/** Makes and mounts a btrfs of `bytes` (sparse) under `dir`; `remove` unmounts and frees the loop. */
export async function makeBtrfs(dir: string, bytes: number): Promise<Btrfs> {
  const img = join(dir, "btrfs.img");
  const mnt = join(dir, "btrfs");
  await run(["truncate", "-s", String(bytes), img]);
  const loop = (await run(["losetup", "-f", "--show", img])).stdout.trim();
  const remove = async () => {
    await run(["umount", "-l", mnt], { check: false });
    await run(["losetup", "-d", loop], { check: false });
  };
  try {
    await run(["mkfs.btrfs", "-q", loop]);
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

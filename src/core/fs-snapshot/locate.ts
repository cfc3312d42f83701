import { lstatSync, realpathSync, statfsSync } from "node:fs";
import { errorMessage } from "../caught.ts";
import type { Runner } from "../process/runner.ts";
import { btrfs } from "./btrfs.ts";
import type { FsFacts, FsPlacement, FsSnapshotDriver } from "./driver.ts";
import { filesystemOf, mountPoints, mountRootOf } from "./mounts.ts";

/** Every filesystem kopi-docka can snapshot. A second one is one more driver file and one entry here. */
export const DRIVERS: readonly FsSnapshotDriver[] = [btrfs];

export const hostFs: FsFacts = {
  fsType: (p) => Number(statfsSync(p).type),
  inode: (p) => Number(lstatSync(p).ino),
  realpath: (p) => realpathSync(p),
  filesystem: (p) => filesystemOf(p),
  mountPoints: () => mountPoints(),
  mountRoot: (p) => mountRootOf(p),
};

/** The driver of a placement's filesystem. */
export function driverNamed(name: string): FsSnapshotDriver | undefined {
  return DRIVERS.find((d) => d.name === name);
}

/**
 * How each path's data can be frozen: by the driver of the filesystem holding it, or cold and why.
 * Reads the filesystem and asks the filesystem's tool; changes nothing.
 */
export async function locateSources(
  runner: Runner,
  paths: readonly string[],
  fs: FsFacts = hostFs,
): Promise<Record<string, FsPlacement>> {
  const out: Record<string, FsPlacement> = {};
  for (const path of new Set(paths)) out[path] = await locateOne(runner, path, fs);
  return out;
}

async function locateOne(runner: Runner, path: string, fs: FsFacts): Promise<FsPlacement> {
  let real: string;
  let type: number;
  try {
    real = fs.realpath(path);
    type = fs.fsType(real);
  } catch (e) {
    return { kind: "cold", reason: `cannot look at ${path}: ${errorMessage(e)}` };
  }
  const driver = DRIVERS.find((d) => d.fsTypes.includes(type));
  if (!driver)
    return {
      kind: "cold",
      reason: `not on a filesystem kopi-docka can snapshot (statfs type 0x${type.toString(16)}; btrfs only)`,
    };
  try {
    return await driver.locate(runner, real, fs);
  } catch (e) {
    return { kind: "cold", reason: `${driver.name}: ${errorMessage(e)}` };
  }
}

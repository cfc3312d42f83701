import { lstatSync, realpathSync } from "node:fs";
import { dirname, posix } from "node:path";
import { errorMessage } from "../caught.ts";
import type { Runner } from "../process/runner.ts";
import {
  type FsFacts,
  type FsPlacement,
  type FsSnapshotDriver,
  isOurSnapshot,
  type SnapshotIdentity,
} from "./driver.ts";
import { FsSnapshotError } from "./errors.ts";
import { mountPointOf, mountsInside } from "./mounts.ts";

/** statfs magic of btrfs (linux/magic.h BTRFS_SUPER_MAGIC). */
export const BTRFS_MAGIC = 0x9123683e;
/** Inode number of every btrfs subvolume's root directory (BTRFS_FIRST_FREE_OBJECTID). */
const SUBVOLUME_ROOT_INODE = 256;
const TIMEOUT_MS = 60_000;

/**
 * btrfs: `btrfs subvolume snapshot -r` of the subvolume holding the data, made in that subvolume's root
 * (or, when the data is the whole subvolume, beside it, so the container never sees it), read at
 * `<snapshot>/<relative path>`, removed with `btrfs subvolume delete`.
 */
export const btrfs: FsSnapshotDriver = {
  name: "btrfs",
  fsTypes: [BTRFS_MAGIC],

  async locate(runner, realPath, fs) {
    const volume = subvolumeRoot(realPath, fs);
    if (!volume) return cold(`no btrfs subvolume root above ${realPath}`);
    // A snapshot holds one subvolume of one mount: data reached through another mount (a bind mount of
    // a plain directory walks up to the wrong subvolume), or a mount inside it, would be missing.
    const points = fs.mountPoints();
    const holder = mountPointOf(realPath, points);
    if (holder !== mountPointOf(volume, points))
      return cold(
        `${realPath} is on the mount ${holder}, not on its subvolume ${volume}'s: a snapshot would not hold it`,
      );
    const [inner] = mountsInside(realPath, points);
    if (inner)
      return cold(`${inner} is mounted inside the data: a snapshot would hold only its empty mount point`);
    const relative = posix.relative(volume, realPath);
    let into = volume;
    if (relative === "") {
      into = dirname(volume);
      if (volume === "/" || fs.fsType(into) !== BTRFS_MAGIC)
        return cold(`the data is the whole subvolume ${volume}, and its parent directory is not on btrfs`);
      // A btrfs mounted on another btrfs: the parent is btrfs, but a snapshot cannot cross filesystems.
      if (fs.filesystem(volume) !== fs.filesystem(into))
        return cold(
          `the data is the whole subvolume ${volume}, and its parent directory ${into} is on another filesystem`,
        );
    }
    try {
      const nested = await nestedSubvolumes(runner, volume);
      const inside = nested.filter((n) => relative === "" || n === relative || n.startsWith(`${relative}/`));
      if (inside.length > 0)
        return cold(
          `subvolume ${posix.join(volume, inside[0] ?? "")} inside the data would be empty in a snapshot`,
        );
    } catch (e) {
      return cold(`btrfs cannot describe subvolume ${volume}: ${errorMessage(e)}`);
    }
    return { kind: "snapshot", driver: "btrfs", volume, relative, into, mount: holder ?? "/" };
  },

  async create(runner, p, signal) {
    try {
      await runner.run(["btrfs", "subvolume", "snapshot", "-r", p.volume, p.snapshot], {
        timeoutMs: TIMEOUT_MS,
        ...(signal ? { signal } : {}),
      });
      const show = await runner.run(["btrfs", "subvolume", "show", p.snapshot], { timeoutMs: TIMEOUT_MS });
      const made = parseShow(show.stdout);
      if (!made?.readonly) throw new Error(`${p.snapshot} is not a read-only subvolume`);
      return { id: made.id, uuid: made.uuid, mount: p.mount };
    } catch (e) {
      throw new FsSnapshotError(`btrfs snapshot of ${p.volume} failed: ${errorMessage(e)}`, e);
    }
  },

  async remove(runner, snapshot, identity) {
    if (!isOurSnapshot(snapshot)) throw new FsSnapshotError(`refusing to remove ${snapshot}: not ours`);
    if (identity) return removeById(runner, snapshot, identity);
    // `btrfs subvolume delete` resolves symlinks: a link at (or above) our name would delete its target.
    if (lstatSync(snapshot, { throwIfNoEntry: false }) && realpathSync(snapshot) !== snapshot)
      throw new FsSnapshotError(`refusing to remove ${snapshot}: a symlink is at or above it`);
    try {
      await runner.run(["btrfs", "subvolume", "delete", snapshot], { timeoutMs: TIMEOUT_MS });
    } catch (e) {
      throw new FsSnapshotError(`btrfs could not delete ${snapshot}: ${errorMessage(e)}`, e);
    }
  },
};

const cold = (reason: string): FsPlacement => ({ kind: "cold", reason });

/** `btrfs subvolume show`: the subvolume's id, UUID and whether it is read-only. */
export function parseShow(text: string): { id: number; uuid: string; readonly: boolean } | undefined {
  const field = (name: string) => new RegExp(`^\\s*${name}:\\s*(.+?)\\s*$`, "m").exec(text)?.[1];
  const id = Number(field("Subvolume ID"));
  const uuid = field("UUID");
  if (!Number.isInteger(id) || id < 256 || !uuid || !/^[0-9a-f-]{36}$/.test(uuid)) return undefined;
  return { id, uuid, readonly: /\breadonly\b/.test(field("Flags") ?? "") };
}

/**
 * Deletes subvolume `id` of the filesystem mounted at `mount` (the kernel finds it by id: no path
 * under a directory others write to is followed), once `show` by that id names the UUID recorded at
 * creation. Gone already: nothing to do. The mount not there (an unmounted disk): an error, so the
 * journal entry stays for the next recovery.
 */
async function removeById(runner: Runner, snapshot: string, s: SnapshotIdentity): Promise<void> {
  const show = await runner.run(["btrfs", "subvolume", "show", "-r", String(s.id), s.mount], {
    timeoutMs: TIMEOUT_MS,
    check: false,
  });
  if (show.exitCode !== 0 && /not found/i.test(show.stderr)) return;
  const now = show.exitCode === 0 ? parseShow(show.stdout) : undefined;
  if (now?.uuid !== s.uuid)
    throw new FsSnapshotError(
      `refusing to remove ${snapshot}: subvolume ${s.id} on ${s.mount} is not the snapshot made (${show.stderr.trim() || `UUID ${now?.uuid ?? "unknown"}`})`,
    );
  try {
    await runner.run(["btrfs", "subvolume", "delete", "--subvolid", String(s.id), s.mount], {
      timeoutMs: TIMEOUT_MS,
    });
  } catch (e) {
    throw new FsSnapshotError(`btrfs could not delete ${snapshot}: ${errorMessage(e)}`, e);
  }
}

/** The nearest directory at or above `path` that is a subvolume root, on btrfs all the way. */
function subvolumeRoot(path: string, fs: FsFacts): string | undefined {
  for (let p = path; ; p = dirname(p)) {
    if (fs.fsType(p) !== BTRFS_MAGIC) return undefined;
    if (fs.inode(p) === SUBVOLUME_ROOT_INODE) return p;
    if (p === "/") return undefined;
  }
}

/**
 * Subvolumes directly inside `volume`, as paths relative to it. `btrfs subvolume list -o` names them
 * from the filesystem's top level; `subvolume show`'s first line is `volume`'s own path from there
 * ("/" for the top level itself).
 */
async function nestedSubvolumes(runner: Runner, volume: string): Promise<string[]> {
  const show = await runner.run(["btrfs", "subvolume", "show", volume], { timeoutMs: TIMEOUT_MS });
  const self = (show.stdout.split("\n")[0] ?? "").trim().replace(/^\/+|\/+$/g, "");
  const list = await runner.run(["btrfs", "subvolume", "list", "-o", volume], { timeoutMs: TIMEOUT_MS });
  const out: string[] = [];
  for (const line of list.stdout.split("\n")) {
    const m = /\bpath (.+)$/.exec(line.trim());
    if (!m?.[1]) continue;
    const path = m[1].replace(/^<FS_TREE>\//, "");
    if (self === "") out.push(path);
    else if (path.startsWith(`${self}/`)) out.push(path.slice(self.length + 1));
  }
  return out;
}

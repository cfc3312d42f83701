import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, type Stats } from "node:fs";
import { join } from "node:path";
import { errorMessage } from "../caught.ts";
import type { Runner } from "../process/runner.ts";
import type { FsFacts, FsSnapshotDriver, SnapshotIdentity } from "./driver.ts";
import { FsSnapshotError } from "./errors.ts";

/** A directory opened by its path, the last part never followed when it is a link. */
const OPEN_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * A snapshot as kopia reads it: its root directory held open by this process, checked to be the
 * snapshot made (`driver.isRoot`: by what the filesystem says of it, not by the path it was opened
 * by), and reached through `/proc/<pid>/fd/<n>`, which leads to that directory whatever is renamed or
 * linked meanwhile. A container that sees the volume's root can rename the snapshot and put a link to
 * a host directory at its name: kopia never goes there. No mount (the systemd service may not mount),
 * nothing left behind: the descriptor closes with the process.
 */
export interface SnapshotView {
  /**
   * `relative` inside the snapshot, as kopia is to read it: an error when a part of it is a symlink
   * (planted in the data before the snapshot, it would lead kopia out of it) or not a directory.
   */
  path(relative: string): string;
  /** After a read of the snapshot's root itself: why what kopia read may not have been it, or undefined. */
  moved(): string | undefined;
  close(): void;
}

/**
 * Opens the snapshot at `snapshot` (its name) or, when something else is there by now, where the
 * filesystem says it went. An error when neither is it.
 */
export async function openView(
  runner: Runner,
  driver: FsSnapshotDriver,
  snapshot: string,
  identity: SnapshotIdentity,
  fs: FsFacts,
): Promise<SnapshotView> {
  const tried: string[] = [];
  for (const candidate of [snapshot, undefined]) {
    const path = candidate ?? (await driver.whereIs(runner, identity, fs).catch(() => undefined));
    if (!path || tried.includes(path)) continue;
    tried.push(path);
    let fd: number;
    try {
      fd = openSync(path, OPEN_DIR);
    } catch {
      continue; // gone, a link, not a directory: not it
    }
    const dir = `/proc/${process.pid}/fd/${fd}`;
    const wrong = await driver.isRoot(runner, dir, identity, fs).catch((e) => errorMessage(e));
    if (!wrong) return viewOf(fd, dir);
    closeSync(fd);
  }
  throw new FsSnapshotError(
    `the snapshot made is not at ${tried.join(" nor at ")} (renamed or replaced meanwhile)`,
  );
}

function viewOf(fd: number, dir: string): SnapshotView {
  // The root itself goes to kopia as the descriptor's link, which kopia follows to the path it has at
  // that moment and reads by that path: the path must lead to this very directory before the read and
  // still after it. A container that sees its parent could swap it meanwhile and put it back; what is
  // read is then discarded only when it did not put it back (a whole-subvolume source: README).
  const held = fstatSync(fd);
  const isHeld = (path: string) => {
    const st = lstatSync(path, { throwIfNoEntry: false });
    return st?.isDirectory() === true && st.ino === held.ino && st.dev === held.dev;
  };
  let followed: string | undefined;
  return {
    path(relative) {
      if (relative === "") {
        followed = readlinkSync(dir);
        if (!isHeld(followed))
          throw new FsSnapshotError(`not read: ${followed} is not the snapshot any more`);
        return dir;
      }
      const wrong = linkOnTheWay(dir, relative);
      if (wrong) throw new FsSnapshotError(`not read: ${wrong}`);
      return join(dir, relative);
    },
    moved: () =>
      followed === undefined || isHeld(followed) ? undefined : `${followed} was not the snapshot all along`,
    close: () => closeSync(fd),
  };
}

/**
 * Why `relative` under `root` is not a plain path to a directory (or a file, at its end): a part of it
 * is a symlink, something else, missing, or `.`/`..`. Each part is looked at with lstat, in order.
 */
export function linkOnTheWay(
  root: string,
  relative: string,
  lstat: (path: string) => Stats | undefined = (p) => lstatSync(p, { throwIfNoEntry: false }),
): string | undefined {
  if (!lstat(`${root}/.`)?.isDirectory()) return "the snapshot is not open";
  const parts = relative === "" ? [] : relative.split("/");
  let at = root;
  for (const [i, part] of parts.entries()) {
    const shown = parts.slice(0, i + 1).join("/");
    if (part === "" || part === "." || part === "..") return `${relative} is not a plain relative path`;
    at = join(at, part);
    const st = lstat(at);
    if (!st) return `${shown} is not in the snapshot`;
    if (st.isSymbolicLink())
      return `${shown} is a symlink in the snapshot (planted in the data before it was taken)`;
    const last = i === parts.length - 1;
    if (!st.isDirectory() && !(last && st.isFile())) return `${shown} is not a directory in the snapshot`;
  }
  return undefined;
}

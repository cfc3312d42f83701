import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  type Stats,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import type { Logger } from "../log.ts";
import { pathUnder } from "../safe-paths.ts";
import { PERMISSION_BITS } from "../snapshot/file-attributes.ts";
import { applyProjectName } from "./copy-project-name.ts";
import type { FileStep } from "./types.ts";

/** How one recipe file is written: its mode, its owner (only as root), its times. */
export interface WrittenAs {
  mode: number;
  owner?: { uid: number; gid: number };
  atime: Date;
  mtime: Date;
}

/**
 * The mode, owner and mtime the backup recorded (`step.attributes`), masked again since the snapshot
 * is untrusted: permission bits only, never set-id or sticky; the owner only when we are root (no
 * one else can give a file away). A recipe without them: the staged copy's read and write bits (read,
 * never run) and mtime, as before they were recorded.
 */
export function writtenAs(step: FileStep, staged: Stats, asRoot: boolean): WrittenAs {
  const a = step.attributes;
  if (!a) return { mode: staged.mode & 0o666, atime: staged.atime, mtime: staged.mtime };
  const mtime = new Date(a.mtimeMs);
  return {
    mode: a.mode & PERMISSION_BITS,
    ...(asRoot ? { owner: { uid: a.uid, gid: a.gid } } : {}),
    atime: mtime,
    mtime,
  };
}

/**
 * Writes the recipe's compose and project files into the target dir, each with the mode, owner and
 * mtime `writtenAs` gives. An existing file that differs is never lost: it is renamed to
 * `<file>.bak-<stamp>` first. Identical files are left alone. Returns the backups it made.
 *
 * Nothing is written through a symlink: each file is created under a new name in its directory
 * (exclusively and without following a link, so a planted one makes it fail), its mode, owner and
 * times set on that descriptor (a name swapped meanwhile is never chmod'ed or chown'ed), and renamed
 * over the target, which replaces a link at the target instead of writing where it points; a link
 * found there is kept as the `.bak`.
 */
export function writeRecipeFiles(
  recipeDir: string,
  steps: readonly FileStep[],
  o: { stamp: string; log: Logger; asRoot?: boolean },
): string[] {
  const asRoot = o.asRoot ?? process.getuid?.() === 0;
  const backups: string[] = [];
  for (const step of steps) {
    if (step.action === "same") continue;
    const from = pathUnder(recipeDir, step.stored);
    const st = lstatSync(from);
    if (!st.isFile()) throw new Error(`${step.stored} in the recipe is not a regular file`);
    mkdirSync(dirname(step.to), { recursive: true });
    if (lstatSync(step.to, { throwIfNoEntry: false })) {
      const bak = `${step.to}.bak-${o.stamp}`;
      renameSync(step.to, bak);
      backups.push(bak);
      o.log.info(`${step.to} was there; the old one is kept as ${bak}`);
    }
    const tmp = join(dirname(step.to), `.${step.to.split("/").pop()}.kd-new-${process.pid}`);
    rmSync(tmp, { force: true });
    try {
      const data = readFileSync(from);
      const named = step.projectName ? applyProjectName(data, step.projectName) : data;
      writeNew(tmp, named, writtenAs(step, st, asRoot));
      renameSync(tmp, step.to);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
  }
  return backups;
}

/** Creates `path` (never through a link), writes `data`, then sets owner, mode and times on it. */
function writeNew(path: string, data: Uint8Array, as: WrittenAs): void {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const fd = openSync(path, flags, 0o600);
  try {
    for (let at = 0; at < data.length; ) at += writeSync(fd, data, at);
    // chown before chmod: a chown may clear mode bits, the mode is set last.
    if (as.owner) fchownSync(fd, as.owner.uid, as.owner.gid);
    fchmodSync(fd, as.mode);
    futimesSync(fd, as.atime, as.mtime);
  } finally {
    closeSync(fd);
  }
}

/** `20261125T104906Z`: a file-name-safe UTC stamp. */
export function fileStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

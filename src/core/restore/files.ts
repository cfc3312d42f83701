import {
  chmodSync,
  constants,
  copyFileSync,
  lstatSync,
  mkdirSync,
  renameSync,
  rmSync,
  utimesSync,
} from "node:fs";
import { dirname, join } from "node:path";
import type { Logger } from "../log.ts";
import { pathUnder } from "../safe-paths.ts";
import type { FileStep } from "./types.ts";

/**
 * Writes the recipe's compose and project files into the target dir, keeping each file's read and
 * write bits and mtime. An existing file that differs is never lost: it is renamed to
 * `<file>.bak-<stamp>` first. Identical files are left alone. Returns the backups it made.
 *
 * Nothing is written through a symlink: each file is copied to a new name in its directory (created
 * exclusively, so a planted link makes it fail) and renamed over the target, which replaces a link
 * at the target instead of writing where it points; a link found there is kept as the `.bak`.
 */
export function writeRecipeFiles(
  recipeDir: string,
  steps: readonly FileStep[],
  o: { stamp: string; log: Logger },
): string[] {
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
      copyFileSync(from, tmp, constants.COPYFILE_EXCL);
      // Read, never run: no mode bit from the snapshot makes one executable or set-id.
      chmodSync(tmp, st.mode & 0o666);
      utimesSync(tmp, st.atime, st.mtime);
      renameSync(tmp, step.to);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
  }
  return backups;
}

/** `20261125T104906Z`: a file-name-safe UTC stamp. */
export function fileStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

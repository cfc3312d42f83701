import { chmodSync, copyFileSync, mkdirSync, renameSync, statSync, utimesSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Logger } from "../log.ts";
import type { FileStep } from "./types.ts";

/**
 * Writes the recipe's compose and project files into the target dir, keeping each file's mode and
 * mtime. An existing file that differs is never lost: it is renamed to `<file>.bak-<stamp>` first.
 * Identical files are left alone. Returns the backups it made.
 */
export function writeRecipeFiles(
  recipeDir: string,
  steps: readonly FileStep[],
  o: { stamp: string; log: Logger },
): string[] {
  const backups: string[] = [];
  for (const step of steps) {
    if (step.action === "same") continue;
    const from = join(recipeDir, step.stored);
    mkdirSync(dirname(step.to), { recursive: true });
    if (step.action === "overwrite") {
      const bak = `${step.to}.bak-${o.stamp}`;
      renameSync(step.to, bak);
      backups.push(bak);
      o.log.info(`${step.to} differed; the old one is kept as ${bak}`);
    }
    const st = statSync(from);
    copyFileSync(from, step.to);
    chmodSync(step.to, st.mode & 0o7777);
    utimesSync(step.to, st.atime, st.mtime);
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

import { lstatSync, readdirSync, renameSync } from "node:fs";
import { dirname, join } from "node:path";
import { AppError } from "../errors.ts";
import { makeStage } from "../process/stages.ts";

/**
 * Whether kopia may write into `dir` in place without its atomic temp files: an empty directory, not
 * a symlink, owned by us and writable by no one else, so nothing can be planted where it writes.
 * kopia makes each directory it restores 0700 and gives it the snapshot's owner and mode only once
 * its entries are written.
 */
export function emptyAndPrivate(dir: string): boolean {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  if (!st?.isDirectory() || st.uid !== (process.geteuid?.() ?? 0) || (st.mode & 0o022) !== 0) return false;
  return readdirSync(dir).length === 0;
}

/** Whether `path` is a mount point: it cannot be renamed, so it is only ever written in place. */
export function isMountPoint(path: string): boolean {
  const st = lstatSync(path, { throwIfNoEntry: false });
  return !!st?.isDirectory() && st.dev !== lstatSync(dirname(path)).dev;
}

/**
 * Writes `target` anew: `write` fills a path inside a fresh 0700 directory beside it (that path does
 * not exist yet, so nothing else can have put anything there), which is then renamed over whatever
 * is at `target`, a symlink too: replaced, never written through. Whatever was there (kept in the
 * undo point) or a half-done write is removed after. Needs room for both copies meanwhile. The
 * stage is named after this process (`stages.ts`): a killed run's is removed by the next one.
 */
export async function swapIn<T>(
  what: string,
  target: string,
  write: (fresh: string) => Promise<T>,
  /** The restart journal's directory: the stage is recorded there, for `recover` after a SIGKILL. */
  journalDir?: string,
): Promise<T> {
  if (isMountPoint(target))
    throw new AppError(
      "restore_failed",
      `${what}: ${target} is a mount point and cannot be replaced by a rename`,
      {
        hint: "in place kopia cannot write a file name over 245 bytes into it; restore as a copy (--as)",
      },
    );
  const st = lstatSync(target, { throwIfNoEntry: false });
  const staged = makeStage(target, journalDir);
  const stage = staged.path;
  try {
    const result = await write(join(stage, "new"));
    if (st) renameSync(target, join(stage, "old"));
    try {
      renameSync(join(stage, "new"), target);
    } catch (e) {
      if (st) renameSync(join(stage, "old"), target);
      throw e;
    }
    return result;
  } finally {
    staged.remove();
  }
}

import { lstatSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { currentPidNamespace, isProcessAlive, processStartTime } from "../lock/owner.ts";

/**
 * Private temp dirs (mkdtemp: 0700) named after the process that made them:
 * `kopi-docka-<kind>-p<pid>-<start time>-<pid namespace>-XXXXXX`. A run ended by SIGKILL or a power cut
 * runs no compensation, so its gate fifos, env files (container secrets) and scratch copies stay in
 * /tmp; the next run that heals (`recoverIfNeeded`, `recover`) removes those whose process is gone.
 */
const NAME = /^kopi-docka-[a-z-]+-p(\d+)-(\d+)-(\d+)-[A-Za-z0-9]{6}$/;

/** This process's pid namespace as its inode number ("0" when unknown), for a file name. */
const pidNamespace = () => /\[(\d+)\]/.exec(currentPidNamespace() ?? "")?.[1] ?? "0";

/** A new private temp dir for this process; `kind` says what it holds (lower-case words and dashes). */
export function makeTempDir(kind: string, dir = tmpdir()): string {
  const start = processStartTime(process.pid) ?? 0;
  return mkdtempSync(join(dir, `kopi-docka-${kind}-p${process.pid}-${start}-${pidNamespace()}-`));
}

/**
 * Removes the temp dirs of kopi-docka processes that no longer run; returns their paths. Only a
 * directory (never a symlink) owned by us, private (0700) and named by `makeTempDir` in this pid
 * namespace is touched: /tmp is everyone's, and a pid means something only in its namespace.
 * Never throws: a leftover is only clutter.
 */
export function sweepDeadTempDirs(dir = tmpdir()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  const ns = pidNamespace();
  const uid = process.getuid?.() ?? 0;
  for (const name of names) {
    const m = NAME.exec(name);
    // A start time of 0 was unknown when the dir was made: then the pid alone says alive.
    if (!m || m[3] !== ns || isProcessAlive(Number(m[1]), Number(m[2]) || undefined)) continue;
    const path = join(dir, name);
    try {
      const st = lstatSync(path);
      if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o777) !== 0o700) continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    } catch {
      // Gone meanwhile, or not ours to remove: either way nothing to do.
    }
  }
  return removed;
}

import { lstatSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { currentPidNamespace, isProcessAlive, processStartTime } from "../lock/owner.ts";
import { PRIORITY } from "../safe-exit.ts";

/**
 * Private temp dirs (mkdtemp: 0700) named after the process that made them:
 * `kopi-docka-<kind>-p<pid>-<start time>-<pid namespace>-XXXXXX`. A run ended by SIGKILL or a power cut
 * runs no compensation, so its gate fifos, env files (container secrets) and scratch copies stay in
 * /tmp; the next run that heals (`recoverIfNeeded`, `recover`) removes those whose process is gone.
 */
const NAME = /^kopi-docka-[a-z-]+-(p\d+-\d+-\d+-[A-Za-z0-9]{6})$/;

/** This process's pid namespace as its inode number ("0" when unknown), for a file name. */
const pidNamespace = () => /\[(\d+)\]/.exec(currentPidNamespace() ?? "")?.[1] ?? "0";

/** `p<pid>-<start time>-<pid namespace>`: this process, in a file name. */
export function processStamp(): string {
  return `p${process.pid}-${processStartTime(process.pid) ?? 0}-${pidNamespace()}`;
}

/** A `processStamp` and mkdtemp's six characters: `p1-2-3-XXXXXX`. */
const STAMP = /^p(\d+)-(\d+)-(\d+)-[A-Za-z0-9]{6}$/;

/**
 * Whether `stamp` (a `processStamp` and mkdtemp's suffix) names a process of this pid namespace that
 * no longer runs. Unknown ones (another namespace, another shape) are never dead.
 */
export function deadStamp(stamp: string): boolean {
  const m = STAMP.exec(stamp);
  // A start time of 0 was unknown when the dir was made: then the pid alone says alive.
  return !!m && m[3] === pidNamespace() && !isProcessAlive(Number(m[1]), Number(m[2]) || undefined);
}

/** A new private temp dir for this process; `kind` says what it holds (lower-case words and dashes). */
export function makeTempDir(kind: string, dir = tmpdir()): string {
  return mkdtempSync(join(dir, `kopi-docka-${kind}-${processStamp()}-`));
}

/**
 * Removes `path` when it is a private (0700) directory of ours, never a symlink; true if it did.
 * Never throws: a leftover is only clutter.
 */
export function removeOwnPrivateDir(path: string): boolean {
  try {
    const st = lstatSync(path);
    if (!st.isDirectory() || st.uid !== (process.getuid?.() ?? 0) || (st.mode & 0o777) !== 0o700)
      return false;
    rmSync(path, { recursive: true, force: true });
    return true;
  } catch {
    // Gone meanwhile, or not ours to remove: either way nothing to do.
    return false;
  }
}

/** What `ownedTempDir` registers its removal with: a `Lifecycle`, or a structural stand-in for one. */
interface Registers {
  register(name: string, priority: number, fn: () => void): { run(): Promise<void> | void };
}

/**
 * A new private temp dir whose removal is a compensation registered at once: it goes however the
 * run ends (success, failure, signal); `remove` is the normal path's call of it (it runs once).
 */
export function ownedTempDir(
  lifecycle: Registers,
  kind: string,
): { dir: string; remove: () => Promise<void> } {
  const dir = makeTempDir(kind);
  const removal = lifecycle.register(`remove ${dir}`, PRIORITY.cleanup, () =>
    rmSync(dir, { recursive: true, force: true }),
  );
  return {
    dir,
    remove: async () => {
      await removal.run();
    },
  };
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
  for (const name of names) {
    const stamp = NAME.exec(name)?.[1];
    const path = join(dir, name);
    if (stamp && deadStamp(stamp) && removeOwnPrivateDir(path)) removed.push(path);
  }
  return removed;
}

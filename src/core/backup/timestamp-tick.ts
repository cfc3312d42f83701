import { lstatSync, opendirSync, statfsSync } from "node:fs";
import { join } from "node:path";

/**
 * kopia takes a file from the last snapshot unread when its size and mtime are unchanged. A file the
 * app wrote just before the stop and rewrites, same size, just after the start gets an mtime in the
 * same timestamp tick on a filesystem that keeps whole (or even) seconds: ext2/3/4 with 128-byte
 * inodes, FAT, HFS+, some NFS and FUSE mounts. The next snapshot then keeps the stopped-time content.
 * The containers are therefore started only once the tick in which they stopped is over; on a
 * filesystem with fine timestamps the tick is a kernel clock tick, long past when kopia has read.
 */

/** Assumed tick of a coarse filesystem: a 2 s boundary is a 1 s boundary too. */
export const COARSE_TICK_MS = 2_000;
/** The kernel's coarse clock, which stamps mtimes, lags the wall clock by up to a jiffy. */
const CLOCK_SLACK_MS = 10;
/** statfs `f_type` of FAT (msdos, vfat): mtimes in 2 s steps, whatever its other times hold. */
const MSDOS_SUPER_MAGIC = 0x4d44;
/** How many entries of a source are looked at, besides the source itself. */
const SAMPLE = 8;

export interface TickIo {
  fsType(path: string): number;
  /** ctime in ns (set by the kernel on every change; never copied from an archive, as mtime may be). */
  ctimeNs(path: string): bigint;
  /** Up to `n` names in the directory. */
  firstNames(path: string, n: number): string[];
}

const realIo: TickIo = {
  fsType: (p) => Number(statfsSync(p).type),
  ctimeNs: (p) => lstatSync(p, { bigint: true }).ctimeNs,
  firstNames(p, n) {
    const dir = opendirSync(p);
    const names: string[] = [];
    try {
      for (let e = dir.readSync(); e && names.length < n; e = dir.readSync()) names.push(e.name);
    } finally {
      dir.closeSync();
    }
    return names;
  },
};

/**
 * The timestamp tick of the filesystem holding `path`: COARSE_TICK_MS when it is FAT, or when no
 * ctime of the directory and its first entries has a sub-second part; 0 when one has (or it cannot
 * be read: then there is nothing there to race).
 */
export function timestampTick(path: string, io: TickIo = realIo): number {
  try {
    if (io.fsType(path) === MSDOS_SUPER_MAGIC) return COARSE_TICK_MS;
    const entries = entriesOf(path, io);
    // An empty directory holds no file to race (and one whole-second ctime proves little).
    if (entries?.length === 0) return 0;
    const paths = [path, ...(entries ?? [])];
    return paths.some((p) => io.ctimeNs(p) % 1_000_000_000n !== 0n) ? 0 : COARSE_TICK_MS;
  } catch {
    return 0;
  }
}

/** The first entries of a directory source; undefined for a file (a single-file bind). */
function entriesOf(path: string, io: TickIo): string[] | undefined {
  try {
    return io.firstNames(path, SAMPLE).map((n) => join(path, n));
  } catch {
    return undefined;
  }
}

/** When the containers may start: the first tick boundary after they were all stopped (wall clock). */
export function startNotBefore(stoppedAtMs: number, tickMs: number): number {
  if (tickMs <= 0) return stoppedAtMs;
  return (Math.floor(stoppedAtMs / tickMs) + 1) * tickMs + CLOCK_SLACK_MS;
}

/** Waits until `startAt` (wall clock); a signal ends the wait at once. `told` hears how long first. */
export async function tickOver(startAt: number, signal: AbortSignal, told: (ms: number) => void) {
  const wait = startAt - Date.now();
  if (wait <= 0 || signal.aborted) return;
  told(wait);
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, wait);
    signal.addEventListener("abort", done, { once: true });
  });
}

import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

export interface SizeResult {
  bytes: number;
  /** True when the walk stopped at a bound; `bytes` is then a lower bound. */
  truncated: boolean;
}

export interface SizeBounds {
  /** Entries (files, dirs, links) visited before giving up. */
  maxEntries?: number;
  /** Wall-clock budget for one path. */
  timeoutMs?: number;
}

const DEFAULTS = { maxEntries: 2_000_000, timeoutMs: 60_000 };
/** Directories read side by side: enough to hide latency, few enough to leave file handles free. */
const CONCURRENCY = 16;

/**
 * Apparent size of everything under `path` (like `du -sb`, without spawning it): regular files'
 * sizes, symlinks counted as links, never followed, no crossing into what they point at. Unreadable
 * entries are skipped. Bounded by entry count and time.
 */
export async function pathSize(path: string, bounds: SizeBounds = {}): Promise<SizeResult> {
  const { maxEntries, timeoutMs } = { ...DEFAULTS, ...bounds };
  const deadline = performance.now() + timeoutMs;
  let bytes = 0;
  let entries = 0;
  let truncated = false;
  const root = await lstat(path).catch(() => undefined);
  if (!root) return { bytes: 0, truncated: false };
  if (!root.isDirectory()) return { bytes: root.size, truncated: false };
  const queue: string[] = [path];
  const worker = async () => {
    for (let dir = queue.pop(); dir !== undefined; dir = queue.pop()) {
      if (entries >= maxEntries || performance.now() > deadline) {
        truncated = true;
        return;
      }
      const names = await readdir(dir).catch((): string[] => []);
      for (const name of names) {
        const full = join(dir, name);
        const st = await lstat(full).catch(() => undefined);
        entries++;
        if (!st) continue;
        if (st.isDirectory()) queue.push(full);
        else bytes += st.size;
      }
    }
  };
  // Workers drain the shared queue; one that finds it empty while others still read retries below.
  while (queue.length > 0 && !truncated) await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { bytes, truncated };
}

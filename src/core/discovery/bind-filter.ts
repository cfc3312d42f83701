import { basename, posix } from "node:path";

/** The parts of `backup` config that decide which bind mounts are host internals. */
export interface BindFilterConfig {
  host_internal_paths: readonly string[];
  host_internal_basenames: readonly string[];
}

/** "/a/b/" → "/a/b"; "/" stays "/". */
function normalise(path: string): string {
  const p = posix.normalize(path);
  return p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
}

/** True when `path` is `prefix` or lies under it ("/proc" covers "/proc/1" but not "/process"). */
export function isAtOrUnder(path: string, prefix: string): boolean {
  const p = normalise(path);
  const root = normalise(prefix);
  if (root === "/") return true;
  return p === root || p.startsWith(`${root}/`);
}

/**
 * True when one path is the other or lies under it. `/` overlaps only itself: a mount of the host
 * root is never taken as holding everything (a monitoring agent's, say).
 */
export function pathsOverlap(a: string, b: string): boolean {
  const x = normalise(a);
  const y = normalise(b);
  if (x === y) return true;
  if (x === "/" || y === "/") return false;
  return isAtOrUnder(x, y) || isAtOrUnder(y, x);
}

/**
 * Why a bind-mount source is a host internal that is never backed up, or undefined when it is data.
 * The host root `/` is always skipped (it cannot be configured back in); the configured paths match
 * at or under; the configured base names match the last path component (e.g. `docker.sock`).
 */
export function hostInternalReason(source: string, backup: BindFilterConfig): string | undefined {
  const p = normalise(source);
  if (p === "/") return "the host root `/` is never backed up";
  const prefix = backup.host_internal_paths
    .filter((root) => isAtOrUnder(p, root))
    .sort((a, b) => b.length - a.length)[0];
  if (prefix !== undefined) {
    return `host internal path (at or under ${normalise(prefix)}, backup.host_internal_paths)`;
  }
  const name = basename(p);
  if (backup.host_internal_basenames.includes(name)) {
    return `host internal file ${name} (backup.host_internal_basenames)`;
  }
  return undefined;
}

import { readFileSync } from "node:fs";

/**
 * Which filesystem holds a path, as the device number of its superblock ("major:minor" from
 * /proc/self/mountinfo). On btrfs `stat`'s st_dev and statfs's f_fsid differ per subvolume, so neither
 * tells two subvolumes of one filesystem from two filesystems; the superblock does, and a btrfs snapshot
 * can only be made on the superblock of its source (the kernel answers EXDEV otherwise).
 */
export function filesystemOf(path: string, mountinfo = readFileSync("/proc/self/mountinfo", "utf8")): string {
  let best: { point: string; device: string } | undefined;
  for (const line of mountinfo.split("\n")) {
    const fields = line.split(" ");
    const device = fields[2];
    const point = fields[4];
    if (!device || !point) continue;
    const mountPoint = decodeOctal(point);
    // A later line at the same mount point is stacked on top of the earlier one: it wins (>=).
    if (within(path, mountPoint) && (!best || mountPoint.length >= best.point.length))
      best = { point: mountPoint, device };
  }
  if (!best) throw new Error(`no mount holds ${path}`);
  return best.device;
}

/** Every mount point in /proc/self/mountinfo, decoded. */
export function mountPoints(mountinfo = readFileSync("/proc/self/mountinfo", "utf8")): string[] {
  return mountinfo
    .split("\n")
    .map((line) => line.split(" ")[4])
    .filter((p): p is string => Boolean(p))
    .map(decodeOctal);
}

/** The mount point holding `path`: the longest of `points` that contains it. */
export function mountPointOf(path: string, points: readonly string[]): string {
  return points.filter((m) => within(path, m)).reduce((a, b) => (b.length > a.length ? b : a), "/");
}

/** Mount points strictly inside `path`. */
export function mountsInside(path: string, points: readonly string[]): string[] {
  return points.filter((m) => m !== path && within(m, path) && path !== "/");
}

function within(path: string, mountPoint: string): boolean {
  return mountPoint === "/" || path === mountPoint || path.startsWith(`${mountPoint}/`);
}

/** mountinfo writes space, tab, newline and backslash in paths as octal escapes. */
function decodeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

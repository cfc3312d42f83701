import { readFileSync } from "node:fs";

/**
 * Which filesystem holds a path, as the device number of its superblock ("major:minor" from
 * /proc/self/mountinfo). On btrfs `stat`'s st_dev and statfs's f_fsid differ per subvolume, so neither
 * tells two subvolumes of one filesystem from two filesystems; the superblock does, and a btrfs snapshot
 * can only be made on the superblock of its source (the kernel answers EXDEV otherwise).
 */
export function filesystemOf(path: string, mountinfo = readFileSync(MOUNTINFO, "utf8")): string {
  const mounts = mountsOf(mountinfo);
  const holder =
    mounts[
      holderIndex(
        path,
        mounts.map((m) => m.point),
      )
    ];
  if (!holder) throw new Error(`no mount holds ${path}`);
  return holder.device;
}

/** Every mount point in /proc/self/mountinfo, decoded. */
export function mountPoints(mountinfo = readFileSync(MOUNTINFO, "utf8")): string[] {
  return mountsOf(mountinfo).map((m) => m.point);
}

/**
 * The root of the mount at exactly `mountPoint` (the topmost there): the part of its filesystem it
 * shows, "/" for all of it (a btrfs mounted with `subvol=` shows that subvolume's path).
 */
export function mountRootOf(
  mountPoint: string,
  mountinfo = readFileSync(MOUNTINFO, "utf8"),
): string | undefined {
  return mountsOf(mountinfo)
    .filter((m) => m.point === mountPoint)
    .at(-1)?.root;
}

/** The mount point holding `path`: the longest of `points` that contains it. */
export function mountPointOf(path: string, points: readonly string[]): string {
  return points[holderIndex(path, points)] ?? "/";
}

/** Mount points strictly inside `path`. */
export function mountsInside(path: string, points: readonly string[]): string[] {
  return path === "/" ? [] : points.filter((m) => m !== path && within(m, path));
}

const MOUNTINFO = "/proc/self/mountinfo";

/** mountinfo's lines: the superblock's device ("major:minor"), the root it shows and the mount point, decoded. */
function mountsOf(mountinfo: string): { device: string; root: string; point: string }[] {
  return mountinfo.split("\n").flatMap((line) => {
    const [, , device, root, point] = line.split(" ");
    return device && root && point ? [{ device, root: decodeOctal(root), point: decodeOctal(point) }] : [];
  });
}

/**
 * Which of `points` holds `path`: the longest that contains it; of equal ones the later, stacked on
 * top of the earlier (mountinfo lists mounts in the order they were made). -1 when none does.
 */
function holderIndex(path: string, points: readonly string[]): number {
  let best = -1;
  points.forEach((m, i) => {
    if (within(path, m) && (best < 0 || m.length >= (points[best] ?? "").length)) best = i;
  });
  return best;
}

function within(path: string, mountPoint: string): boolean {
  return mountPoint === "/" || path === mountPoint || path.startsWith(`${mountPoint}/`);
}

/** mountinfo writes space, tab, newline and backslash in paths as octal escapes. */
function decodeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

import { describe, expect, test } from "bun:test";
import {
  filesystemOf,
  mountPointOf,
  mountPoints,
  mountRootOf,
  mountsInside,
} from "../../../../src/core/fs-snapshot/mounts.ts";

// Two btrfs filesystems (0:40 at /mnt, 0:52 mounted on it at /mnt/vol), a subvolume of the first
// mounted again elsewhere (same superblock 0:40), and a mount point with a space in its name.
const MOUNTINFO = [
  "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
  "30 22 0:40 / /mnt rw,relatime shared:5 - btrfs /dev/loop0 rw,subvolid=5,subvol=/",
  "31 30 0:52 / /mnt/vol rw,relatime shared:6 - btrfs /dev/loop1 rw,subvolid=5,subvol=/",
  "32 22 0:40 /sub /srv/sub rw,relatime shared:7 - btrfs /dev/loop0 rw,subvolid=256,subvol=/sub",
  "33 22 0:60 / /srv/my\\040data rw - tmpfs tmpfs rw",
  "",
].join("\n");

describe("filesystemOf", () => {
  test("the superblock of the deepest mount holding the path", () => {
    expect(filesystemOf("/mnt/vol", MOUNTINFO)).toBe("0:52");
    expect(filesystemOf("/mnt/vol/data/x", MOUNTINFO)).toBe("0:52");
    expect(filesystemOf("/mnt", MOUNTINFO)).toBe("0:40");
    expect(filesystemOf("/mnt/volume", MOUNTINFO)).toBe("0:40");
    expect(filesystemOf("/etc", MOUNTINFO)).toBe("8:1");
  });

  test("two mounts of one btrfs are one filesystem; escaped mount points are decoded", () => {
    expect(filesystemOf("/srv/sub/a", MOUNTINFO)).toBe(filesystemOf("/mnt/a", MOUNTINFO));
    expect(filesystemOf("/srv/my data/f", MOUNTINFO)).toBe("0:60");
  });

  test("a mount stacked on the same point hides the one below", () => {
    const stacked = `${MOUNTINFO}40 31 0:70 / /mnt/vol rw - btrfs /dev/loop2 rw\n`;
    expect(filesystemOf("/mnt/vol/x", stacked)).toBe("0:70");
  });

  test("reads this process's mounts by default", () => {
    expect(filesystemOf("/")).toMatch(/^\d+:\d+$/);
  });
});

describe("mount points", () => {
  const points = mountPoints(MOUNTINFO);
  test("decoded, in mountinfo's order", () => {
    expect(points).toEqual(["/", "/mnt", "/mnt/vol", "/srv/sub", "/srv/my data"]);
  });
  test("the one holding a path, and the ones inside it", () => {
    expect(mountPointOf("/mnt/vol/x", points)).toBe("/mnt/vol");
    expect(mountPointOf("/mnt/volume", points)).toBe("/mnt");
    expect(mountPointOf("/etc", points)).toBe("/");
    expect(mountsInside("/mnt", points)).toEqual(["/mnt/vol"]);
    expect(mountsInside("/mnt/vol", points)).toEqual([]);
    expect(mountsInside("/", points)).toEqual([]);
  });
});

describe("mountRootOf", () => {
  test("the root the mount at exactly that point shows: the subvolume's path, / for the whole filesystem", () => {
    expect(mountRootOf("/mnt", MOUNTINFO)).toBe("/");
    expect(mountRootOf("/srv/sub", MOUNTINFO)).toBe("/sub");
    expect(mountRootOf("/srv/my data", MOUNTINFO)).toBe("/");
    expect(mountRootOf("/mnt/vol/data", MOUNTINFO)).toBeUndefined();
  });
});

# btrfs-progs for the fs-snapshot tests (test/integration/fs-snapshot.test.ts): they make a btrfs
# filesystem on a loop device of their own (the kernel's btrfs, `losetup`), mount it, and remove it again.
apt_install btrfs-progs

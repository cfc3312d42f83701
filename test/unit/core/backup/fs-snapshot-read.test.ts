import { afterEach, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { executeBackup } from "../../../../src/core/backup/execute.ts";
import { withFsPlacements } from "../../../../src/core/backup/fs-snapshot.ts";
import { discovery } from "./fixtures.ts";
import { BIND, type HostOptions, setup as host, IDS } from "./fs-snapshot-setup.ts";

// What a container that sees a volume's root can do to the snapshot in it, and a btrfs that does not
// come back: the backup never records what such a container chose, nor keeps the service down.

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});
const setup = (o: HostOptions = {}) => {
  const h = host(o);
  dirs.push(h.dir);
  return h;
};
const snapJournal = (journalDir: string) => readdirSync(join(journalDir, "fs-snapshots"));

test("the snapshot moved away as soon as made and a link to a host directory put at its name: kopia reads the snapshot, where btrfs says it went", async () => {
  const { deps, unit, plan, events, journalDir, snap1, snap2, onBtrfs } = setup({ swapAway: true });
  const record = await executeBackup(deps, withFsPlacements(plan, onBtrfs), discovery(unit));
  expect(record.units[0]?.status).toBe("ok");
  // (`kopia <name>/…`: the path kopia was given leads into the snapshot made, now at `<name>-away`.)
  expect(events.filter((e) => e.startsWith("kopia"))).toEqual([
    `kopia ${snap1}/volumes/shop_dbdata/_data`,
    `kopia ${snap2}/shop/uploads`,
  ]);
  expect(events.filter((e) => e.includes("delete"))).toEqual([
    `btrfs subvolume delete --subvolid ${IDS[snap1]} /`,
    `btrfs subvolume delete --subvolid ${IDS[snap2]} /`,
  ]);
  expect(snapJournal(journalDir)).toEqual([]);
});

test("a symlink on the data's way inside the snapshot (planted before it was taken): that source fails, kopia never reads it", async () => {
  const { deps, unit, plan, events, journalDir, snap1, snap2, onBtrfs } = setup({ plantLink: true });
  const record = await executeBackup(deps, withFsPlacements(plan, onBtrfs), discovery(unit));
  const u = record.units[0];
  expect(u?.status).toBe("failed");
  expect(u?.sources.find((s) => s.label === BIND)).toMatchObject({
    status: "failed",
    reason:
      "not snapshotted: not read: shop is a symlink in the snapshot (planted in the data before it was taken)",
  });
  expect(events.filter((e) => e.startsWith("kopia"))).toEqual([`kopia ${snap1}/volumes/shop_dbdata/_data`]);
  expect(events.filter((e) => e.includes("delete"))).toEqual([
    `btrfs subvolume delete --subvolid ${IDS[snap1]} /`,
    `btrfs subvolume delete --subvolid ${IDS[snap2]} /`,
  ]);
  expect(snapJournal(journalDir)).toEqual([]);
});

test("a snapshot changed while kopia read it (made writable by a container that sees it): what kopia saved is deleted, the sources fail", async () => {
  const { deps, unit, plan, events, snap1, snap2, onBtrfs } = setup({ changedAfterRead: true });
  const record = await executeBackup(deps, withFsPlacements(plan, onBtrfs), discovery(unit));
  const u = record.units[0];
  expect(u?.status).toBe("failed");
  expect(u?.sources.map((s) => [s.status, s.reason?.split(" (")[0]])).toEqual([
    ["failed", "discarded: the filesystem snapshot of /var/lib/docker changed while kopia read it"],
    ["failed", "discarded: the filesystem snapshot of /srv changed while kopia read it"],
  ]);
  expect(u?.sources[0]?.reason).toContain("generation 9 → 10");
  // Each read, then its manifest deleted (`snapshot delete m1`).
  expect(events.filter((e) => e.startsWith("kopia"))).toEqual([
    `kopia ${snap1}/volumes/shop_dbdata/_data`,
    "kopia m1",
    `kopia ${snap2}/shop/uploads`,
    "kopia m1",
  ]);
});

test("a snapshot stuck in the kernel (its kill ignored): the containers start at max_cold_seconds; the run's end waits for it and deletes what it made", async () => {
  const { deps, unit, plan, events, journalDir, snap1, onBtrfs } = setup({
    stuckFreezeMs: 1500,
    maxColdSeconds: 1,
  });
  const record = await executeBackup(deps, withFsPlacements(plan, onBtrfs), discovery(unit));
  const u = record.units[0];
  expect(u?.sources.map((s) => s.reason)).toEqual([
    "cancelled: the cold window passed max_cold_seconds (1 s)",
    "cancelled: the cold window passed max_cold_seconds (1 s)",
  ]);
  expect(u?.coldWindowMs).toBeLessThan(1400);
  expect(u?.warnings?.[0]).toContain("/var/lib/docker: the btrfs snapshot did not return in time");
  // One snapshot tried: the disk stuck for it is stuck for the next.
  expect(events.filter((e) => e.includes("snapshot -r"))).toEqual([
    `btrfs subvolume snapshot -r /var/lib/docker ${snap1}`,
  ]);
  expect(events.filter((e) => e.startsWith("start"))).toHaveLength(3);
  expect(events).not.toContain("btrfs snapshot returned");
  // Journaled meanwhile: a run killed now leaves it to the next recovery.
  expect(snapJournal(journalDir)).toEqual([".kopi-docka-snap-RUN-01-1.json"]);
  await deps.lifecycle.runAll();
  expect(events.slice(-2)).toEqual([
    "btrfs snapshot returned",
    `btrfs subvolume delete --subvolid ${IDS[snap1]} /`,
  ]);
  expect(snapJournal(journalDir)).toEqual([]);
});

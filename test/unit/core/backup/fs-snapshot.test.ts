import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { executeBackup } from "../../../../src/core/backup/execute.ts";
import {
  fsSnapshotFallback,
  fsSnapshotPaths,
  withFsPlacements,
} from "../../../../src/core/backup/fs-snapshot.ts";
import type { FsPlacement } from "../../../../src/core/fs-snapshot/driver.ts";
import { tempDir } from "../../../helpers/env.ts";
import { discovery } from "./fixtures.ts";
import { BIND, bindInto, type HostOptions, setup as host, IDS, VOLUME } from "./fs-snapshot-setup.ts";

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});
const setup = (o: HostOptions = {}) => {
  const h = host(o);
  dirs.push(h.dir);
  return h;
};

describe("fs-snapshot", () => {
  test("plan: only fs-snapshot units' data are looked at; a cold source makes the unit cold, saying why", () => {
    const { plan, onBtrfs } = setup();
    expect(fsSnapshotPaths(plan)).toEqual([VOLUME, BIND]);
    const frozen = withFsPlacements(plan, onBtrfs);
    expect(frozen.units[0]?.sources.map((s) => s.fsSnapshot?.kind)).toEqual(["snapshot", "snapshot"]);
    const [unitPlan] = frozen.units;
    if (!unitPlan) throw new Error("no unit planned");
    expect(fsSnapshotFallback(unitPlan)).toBeUndefined();
    const mixed = withFsPlacements(plan, {
      ...onBtrfs,
      [BIND]: { kind: "cold", reason: "not on btrfs (ext4)" },
    });
    expect(fsSnapshotFallback(mixed.units[0] ?? unitPlan)).toBe(
      "fs-snapshot not possible, backed up cold (bind /srv/shop/uploads: not on btrfs (ext4))",
    );
  });

  test("stop → one snapshot per subvolume → start → kopia reads the snapshots under the usual identity → removed", async () => {
    const { deps, unit, plan, events, journalDir, snap1, snap2, onBtrfs } = setup();
    const record = await executeBackup(deps, withFsPlacements(plan, onBtrfs), discovery(unit));
    expect(record.status).toBe("ok");
    expect(events).toEqual([
      "stop id-shop_web_1",
      "stop id-shop_app_1",
      "stop id-shop_db_1",
      `btrfs subvolume snapshot -r /var/lib/docker ${snap1}`,
      `btrfs subvolume snapshot -r /srv ${snap2}`,
      "start id-shop_db_1",
      "start id-shop_app_1",
      "start id-shop_web_1",
      // Held open and checked to be the snapshot made: never read at a path a container could swap.
      `btrfs inspect-internal rootid`,
      `kopia ${snap1}/volumes/shop_dbdata/_data`,
      `btrfs subvolume delete --subvolid ${IDS[snap1]} /`,
      `btrfs inspect-internal rootid`,
      `kopia ${snap2}/shop/uploads`,
      `btrfs subvolume delete --subvolid ${IDS[snap2]} /`,
    ]);
    expect(record.units[0]?.frozenWindowMs).toBeGreaterThanOrEqual(0);
    expect(record.units[0]?.warnings).toBeUndefined();
    expect(readdirSync(join(journalDir, "fs-snapshots"))).toEqual([]);
  });

  test("a failed kopia snapshot fails the source; the filesystem snapshots are removed all the same", async () => {
    const { deps, unit, plan, events, snap1, snap2, onBtrfs } = setup({
      failSnapshotOf: ".kopi-docka-snap-RUN-01-1/volumes/shop_dbdata/_data",
    });
    const record = await executeBackup(deps, withFsPlacements(plan, onBtrfs), discovery(unit));
    expect(record.status).toBe("failed");
    expect(events.filter((e) => e.includes("delete"))).toEqual([
      `btrfs subvolume delete --subvolid ${IDS[snap1]} /`,
      `btrfs subvolume delete --subvolid ${IDS[snap2]} /`,
    ]);
  });

  test("a container crash-looping a few seconds after its start is the unit's failed start; the data is saved", async () => {
    const { deps, unit, plan, onBtrfs } = setup({ crashLoops: "id-shop_app_1" });
    const record = await executeBackup(deps, withFsPlacements(plan, onBtrfs), discovery(unit));
    const u = record.units[0];
    expect(record.status).toBe("restart_failed");
    expect(u?.restartFailed).toEqual(["shop_app_1"]);
    expect(u?.errors).toMatchObject([{ phase: "start", item: "shop_app_1" }]);
    expect(u?.errors[0]?.message).toStartWith("restarting: exited (code 1)");
    expect(u?.sources.every((s) => s.status === "ok")).toBe(true);
  });

  test("a snapshot btrfs refuses: that source is read cold before the start, with a warning", async () => {
    const { deps, unit, plan, events, snap1, snap2, onBtrfs } = setup({ failFreeze: "/srv" });
    const record = await executeBackup(deps, withFsPlacements(plan, onBtrfs), discovery(unit));
    expect(record.status).toBe("ok");
    expect(events.slice(3, 8)).toEqual([
      `btrfs subvolume snapshot -r /var/lib/docker ${snap1}`,
      `btrfs subvolume snapshot -r /srv ${snap2}`,
      `kopia ${BIND}`,
      "start id-shop_db_1",
      "start id-shop_app_1",
    ]);
    expect(record.units[0]?.warnings).toEqual([`bind ${BIND}: filesystem snapshot failed, read cold`]);
    expect(events.filter((e) => e.includes("delete"))).toEqual([
      `btrfs subvolume delete --subvolid ${IDS[snap1]} /`,
    ]);
  });

  test("a container started by something else while it was held stopped: nothing of the window is kept", async () => {
    const { deps, unit, plan, events, snap1, onBtrfs } = setup({
      failFreeze: "/srv",
      startedElsewhere: "id-shop_db_1",
    });
    const record = await executeBackup(deps, withFsPlacements(plan, onBtrfs), discovery(unit));
    const u = record.units[0];
    expect(u?.status).toBe("failed");
    expect(u?.errors[0]).toMatchObject({ phase: "stop", item: "shop_db_1" });
    // The bind read cold in the window, then its manifest deleted (`snapshot delete m1`); the frozen
    // volume is never read.
    expect(events.filter((e) => e.startsWith("kopia"))).toEqual([`kopia ${BIND}`, "kopia m1"]);
    expect(u?.sources.map((s) => [s.label, s.status, s.reason?.split(":")[0]])).toEqual([
      [BIND, "failed", "discarded"],
      ["shop_dbdata", "failed", "not snapshotted"],
    ]);
    expect(events.filter((e) => e.includes("delete"))).toEqual([
      `btrfs subvolume delete --subvolid ${IDS[snap1]} /`,
    ]);
  });

  test("something already at our snapshot's name (a planted dir or link) is never snapshotted into nor deleted; that source is read cold", async () => {
    const { deps, unit, plan, events, onBtrfs } = setup();
    const into = tempDir("kd-fssnap-into-");
    dirs.push(into);
    const victim = join(into.path, "victim");
    mkdirSync(victim);
    const planted = join(into.path, ".kopi-docka-snap-RUN-01-2");
    symlinkSync(victim, planted);
    const placements: Record<string, FsPlacement> = { ...onBtrfs, [BIND]: bindInto(into.path) };
    const record = await executeBackup(deps, withFsPlacements(plan, placements), discovery(unit));
    expect(events.filter((e) => e.includes(planted))).toEqual([]);
    expect(events.indexOf(`kopia ${BIND}`)).toBeLessThan(events.indexOf("start id-shop_db_1"));
    expect(record.units[0]?.warnings).toEqual([`bind ${BIND}: filesystem snapshot failed, read cold`]);
    expect(existsSync(victim)).toBe(true);
  });

  test("a source not on btrfs: the whole unit is backed up cold, with the reason in the result", async () => {
    const { deps, unit, plan, events, onBtrfs } = setup();
    const placements = { ...onBtrfs, [BIND]: { kind: "cold" as const, reason: "not on btrfs" } };
    const record = await executeBackup(deps, withFsPlacements(plan, placements), discovery(unit));
    expect(events.filter((e) => e.startsWith("btrfs"))).toEqual([]);
    expect(events.indexOf(`kopia ${VOLUME}`)).toBeLessThan(events.indexOf("start id-shop_db_1"));
    expect(record.units[0]?.warnings?.[0]).toContain("backed up cold (bind /srv/shop/uploads: not on btrfs)");
  });

  test("a snapshot that hangs is cancelled at max_cold_seconds: the sources fail, the containers run again", async () => {
    const { deps, unit, plan, events, onBtrfs } = setup({ hangFreeze: true });
    const record = await executeBackup(deps, withFsPlacements(plan, onBtrfs), discovery(unit));
    const u = record.units[0];
    expect(u?.sources.map((s) => s.reason)).toEqual([
      "cancelled: the cold window passed max_cold_seconds (1 s)",
      "cancelled: the cold window passed max_cold_seconds (1 s)",
    ]);
    expect(events.filter((e) => e.startsWith("start"))).toHaveLength(3);
    expect(u?.coldWindowMs).toBeLessThan(5_000);
    expect(u?.restartFailed).toEqual([]);
  });
});

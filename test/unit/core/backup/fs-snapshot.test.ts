import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { executeBackup } from "../../../../src/core/backup/execute.ts";
import {
  fsSnapshotFallback,
  fsSnapshotPaths,
  withFsPlacements,
} from "../../../../src/core/backup/fs-snapshot.ts";
import { planBackup } from "../../../../src/core/backup/plan.ts";
import type { FsPlacement } from "../../../../src/core/fs-snapshot/driver.ts";
import type { Runner } from "../../../../src/core/process/runner.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { type Expectation, FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { backupDeps, config, discovery, planOpts, stackUnit } from "./fixtures.ts";

const dirs: { remove: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const VOLUME = "/var/lib/docker/volumes/shop_dbdata/_data";
const BIND = "/srv/shop/uploads";
const onBtrfs: Record<string, FsPlacement> = {
  [VOLUME]: {
    kind: "snapshot",
    driver: "btrfs",
    volume: "/var/lib/docker",
    relative: "volumes/shop_dbdata/_data",
    into: "/var/lib/docker",
    mount: "/var/lib/docker",
  },
  [BIND]: {
    kind: "snapshot",
    driver: "btrfs",
    volume: "/srv",
    relative: "shop/uploads",
    into: "/srv",
    mount: "/srv",
  },
};
/** Each snapshot's subvolume id, as `btrfs subvolume show` reports it. */
const IDS: Record<string, number> = {};
const showOf = (id: number) =>
  `x\n\tUUID: \t\t${`0000000${id}`.slice(-8)}-0000-0000-0000-000000000000\n\tSubvolume ID: \t\t${id}\n\tFlags: \t\t\treadonly\n`;
const SNAP1 = "/var/lib/docker/.kopi-docka-snap-RUN-01-1";
const SNAP2 = "/srv/.kopi-docka-snap-RUN-01-2";

const manifest = JSON.stringify({
  id: "m1",
  source: { host: "h", userName: "kopi-docka", path: "/x" },
  startTime: "t",
  rootEntry: { summ: { size: 5, files: 1, numFailed: 0 } },
});

function setup(
  o: {
    failSnapshotOf?: string;
    failFreeze?: string;
    hangFreeze?: boolean;
    /** This container is started by something else as the first filesystem snapshot is taken. */
    startedElsewhere?: string;
    /** This container's restart policy restarts it again and again by the look after the starts. */
    crashLoops?: string;
  } = {},
) {
  const dir = tempDir("kd-fssnap-");
  dirs.push(dir);
  const events: string[] = [];
  const kopia = (sub: string) => (a: readonly string[]) => a[0] === "kopia" && a.includes(sub);
  const fake = new FakeRunner([], [
    {
      argv: (a) => kopia("snapshot")(a) && a[5] === o.failSnapshotOf,
      exitCode: 1,
      stderr: "ERROR: disk full",
    },
    { argv: kopia("snapshot"), stdout: `${manifest}\n` },
    { argv: (a) => kopia("policy")(a) && a.includes("show"), stdout: "{}" },
    { argv: (a) => kopia("policy")(a) && a.includes("export"), stdout: "{}\n" },
    { argv: (a) => kopia("policy")(a) && a.includes("set") },
    { argv: (a) => kopia("maintenance")(a), stdout: JSON.stringify({ owner: "someone@else" }) },
    {
      argv: (a) => a[0] === "btrfs" && a[3] === "-r" && a[4] === o.failFreeze,
      exitCode: 1,
      stderr: "ERROR: cannot snapshot",
    },
    { argv: (a) => a[0] === "btrfs" },
  ] satisfies Expectation[]);
  const runner: Runner = {
    run: (argv, opts) => {
      if (argv[0] === "kopia" && argv[3] === "snapshot") events.push(`kopia ${argv[5]}`);
      if (argv[0] === "btrfs" && argv[2] !== "show") events.push(argv.join(" "));
      // A millisecond back: in the window, and earlier than the start kopi-docka issues after it.
      if (o.startedElsewhere && argv[3] === "-r" && argv[4] === "/var/lib/docker")
        docker.startedElsewhere(o.startedElsewhere, new Date(Date.now() - 1));
      if (argv[0] === "btrfs" && argv[2] === "show") {
        const path = argv.at(-1) ?? "";
        if (argv[3] !== "-r" && IDS[path] === undefined) IDS[path] = 300 + Object.keys(IDS).length;
        const id = argv[3] === "-r" ? Number(argv[4]) : (IDS[path] ?? 0);
        return Promise.resolve({
          argv,
          exitCode: 0,
          signal: null,
          stdout: showOf(id),
          stderr: "",
          durationMs: 0,
          timedOut: false,
          aborted: false,
        });
      }
      // A stuck disk: the snapshot returns only when it is cancelled.
      if (o.hangFreeze && argv[3] === "-r")
        return new Promise((_, reject) =>
          opts?.signal?.addEventListener("abort", () => reject(new Error("killed"))),
        );
      return fake.run(argv, opts);
    },
  };
  const names = ["web", "app", "db"].map((s) => `shop_${s}_1`);
  const docker = new FakeDocker({
    containers: names.map((n) => FakeDocker.container(`id-${n}`, { StartedAt: "2025-01-01T00:00:00Z" }, n)),
    before: (call) => {
      if (/^(stop|start) /.test(call)) events.push(call.split(" ").slice(0, 2).join(" "));
      const c = o.crashLoops && call.startsWith("inspect ") ? docker.containers.get(o.crashLoops) : undefined;
      if (c) c.State = { ...c.State, Status: "restarting", Restarting: true, ExitCode: 1 };
    },
  });
  const deps = backupDeps({
    config: config({
      units: { shop: { mode: "fs-snapshot", ...(o.hangFreeze ? { max_cold_seconds: 1 } : {}) } },
    }),
    runner,
    docker,
    dir: dir.path,
  });
  const unit = { ...stackUnit(), mode: "fs-snapshot" as const };
  const plan = planBackup(deps.config, discovery(unit), new Date(), {
    ...planOpts,
    stagingDir: dir.path,
    scope: "minimal",
  });
  return { deps, unit, plan, events, journalDir: join(dir.path, "journal") };
}

describe("fs-snapshot", () => {
  test("plan: only fs-snapshot units' data are looked at; a cold source makes the unit cold, saying why", () => {
    const { plan } = setup();
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
    const { deps, unit, plan, events, journalDir } = setup();
    const record = await executeBackup(deps, withFsPlacements(plan, onBtrfs), discovery(unit));
    expect(record.status).toBe("ok");
    expect(events).toEqual([
      "stop id-shop_web_1",
      "stop id-shop_app_1",
      "stop id-shop_db_1",
      `btrfs subvolume snapshot -r /var/lib/docker ${SNAP1}`,
      `btrfs subvolume snapshot -r /srv ${SNAP2}`,
      "start id-shop_db_1",
      "start id-shop_app_1",
      "start id-shop_web_1",
      `kopia ${SNAP1}/volumes/shop_dbdata/_data`,
      `btrfs subvolume delete --subvolid ${IDS[SNAP1]} /var/lib/docker`,
      `kopia ${SNAP2}/shop/uploads`,
      `btrfs subvolume delete --subvolid ${IDS[SNAP2]} /srv`,
    ]);
    expect(record.units[0]?.frozenWindowMs).toBeGreaterThanOrEqual(0);
    expect(record.units[0]?.warnings).toBeUndefined();
    expect(readdirSync(join(journalDir, "fs-snapshots"))).toEqual([]);
  });

  test("a failed kopia snapshot fails the source; the filesystem snapshots are removed all the same", async () => {
    const { deps, unit, plan, events } = setup({ failSnapshotOf: `${SNAP1}/volumes/shop_dbdata/_data` });
    const record = await executeBackup(deps, withFsPlacements(plan, onBtrfs), discovery(unit));
    expect(record.status).toBe("failed");
    expect(events.filter((e) => e.includes("delete"))).toEqual([
      `btrfs subvolume delete --subvolid ${IDS[SNAP1]} /var/lib/docker`,
      `btrfs subvolume delete --subvolid ${IDS[SNAP2]} /srv`,
    ]);
  });

  test("a container crash-looping a few seconds after its start is the unit's failed start; the data is saved", async () => {
    const { deps, unit, plan } = setup({ crashLoops: "id-shop_app_1" });
    const record = await executeBackup(deps, withFsPlacements(plan, onBtrfs), discovery(unit));
    const u = record.units[0];
    expect(record.status).toBe("restart_failed");
    expect(u?.restartFailed).toEqual(["shop_app_1"]);
    expect(u?.errors).toMatchObject([{ phase: "start", item: "shop_app_1" }]);
    expect(u?.errors[0]?.message).toStartWith("restarting: exited (code 1)");
    expect(u?.sources.every((s) => s.status === "ok")).toBe(true);
  });

  test("a snapshot btrfs refuses: that source is read cold before the start, with a warning", async () => {
    const { deps, unit, plan, events } = setup({ failFreeze: "/srv" });
    const record = await executeBackup(deps, withFsPlacements(plan, onBtrfs), discovery(unit));
    expect(record.status).toBe("ok");
    expect(events.slice(3, 8)).toEqual([
      `btrfs subvolume snapshot -r /var/lib/docker ${SNAP1}`,
      `btrfs subvolume snapshot -r /srv ${SNAP2}`,
      `kopia ${BIND}`,
      "start id-shop_db_1",
      "start id-shop_app_1",
    ]);
    expect(record.units[0]?.warnings).toEqual([`bind ${BIND}: filesystem snapshot failed, read cold`]);
    expect(events.filter((e) => e.includes("delete"))).toEqual([
      `btrfs subvolume delete --subvolid ${IDS[SNAP1]} /var/lib/docker`,
    ]);
  });

  test("a container started by something else while it was held stopped: nothing of the window is kept", async () => {
    const { deps, unit, plan, events } = setup({ failFreeze: "/srv", startedElsewhere: "id-shop_db_1" });
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
      `btrfs subvolume delete --subvolid ${IDS[SNAP1]} /var/lib/docker`,
    ]);
  });

  test("something already at our snapshot's name (a planted dir or link) is never snapshotted into nor deleted; that source is read cold", async () => {
    const { deps, unit, plan, events } = setup();
    const into = tempDir("kd-fssnap-into-");
    dirs.push(into);
    const victim = join(into.path, "victim");
    mkdirSync(victim);
    const planted = join(into.path, ".kopi-docka-snap-RUN-01-2");
    symlinkSync(victim, planted);
    const placements: Record<string, FsPlacement> = {
      ...onBtrfs,
      [BIND]: {
        kind: "snapshot",
        driver: "btrfs",
        volume: "/srv",
        relative: "shop/uploads",
        into: into.path,
        mount: "/srv",
      },
    };
    const record = await executeBackup(deps, withFsPlacements(plan, placements), discovery(unit));
    expect(events.filter((e) => e.includes(planted))).toEqual([]);
    expect(events.indexOf(`kopia ${BIND}`)).toBeLessThan(events.indexOf("start id-shop_db_1"));
    expect(record.units[0]?.warnings).toEqual([`bind ${BIND}: filesystem snapshot failed, read cold`]);
    expect(existsSync(victim)).toBe(true);
  });

  test("a source not on btrfs: the whole unit is backed up cold, with the reason in the result", async () => {
    const { deps, unit, plan, events } = setup();
    const placements = { ...onBtrfs, [BIND]: { kind: "cold" as const, reason: "not on btrfs" } };
    const record = await executeBackup(deps, withFsPlacements(plan, placements), discovery(unit));
    expect(events.filter((e) => e.startsWith("btrfs"))).toEqual([]);
    expect(events.indexOf(`kopia ${VOLUME}`)).toBeLessThan(events.indexOf("start id-shop_db_1"));
    expect(record.units[0]?.warnings?.[0]).toContain("backed up cold (bind /srv/shop/uploads: not on btrfs)");
  });

  test("a snapshot that hangs is cancelled at max_cold_seconds: the sources fail, the containers run again", async () => {
    const { deps, unit, plan, events } = setup({ hangFreeze: true });
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

import { mkdirSync, readlinkSync, renameSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { planBackup } from "../../../../src/core/backup/plan.ts";
import type { FsFacts, FsPlacement } from "../../../../src/core/fs-snapshot/driver.ts";
import { hostFs } from "../../../../src/core/fs-snapshot/locate.ts";
import type { Runner, RunOptions, RunResult } from "../../../../src/core/process/runner.ts";
import { FakeDocker } from "../../../fakes/fake-docker.ts";
import { type Expectation, FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { listLine, VOLUME_UUID } from "../fs-snapshot/fixtures.ts";
import { backupDeps, config, discovery, planOpts, stackUnit } from "./fixtures.ts";

// A host for `mode = "fs-snapshot"` units, faked at the runner: btrfs-progs (a snapshot is a real
// directory under the test's temp dir, holding the volume's data path; `inspect-internal rootid` of an
// open one names its id) and kopia. Inode 256 (a subvolume's root) is told of what kopi-docka opened.

export const VOLUME = "/var/lib/docker/volumes/shop_dbdata/_data";
export const BIND = "/srv/shop/uploads";
/** Each volume's UUID: a snapshot of it names it as its parent. */
const UUIDS: Record<string, string> = {
  "/var/lib/docker": VOLUME_UUID,
  "/srv": VOLUME_UUID.replace("b48c", "5f7a"),
};
// One filesystem, mounted at / (showing all of it): btrfs lists a snapshot at its host path.
const snapshotOf = (volume: string, relative: string, into: string): FsPlacement => ({
  kind: "snapshot",
  driver: "btrfs",
  volume,
  relative,
  into,
  mount: "/",
  uuid: UUIDS[volume] ?? "",
});
/** The placements of the two sources, their snapshots made under `root`. */
export const placements = (root: string): Record<string, FsPlacement> => ({
  [VOLUME]: snapshotOf("/var/lib/docker", "volumes/shop_dbdata/_data", join(root, "docker")),
  [BIND]: snapshotOf("/srv", "shop/uploads", join(root, "srv")),
});
/** The bind's placement with its snapshot made in `into`. */
export const bindInto = (into: string) => snapshotOf("/srv", "shop/uploads", into);
/** What each volume's snapshot holds: the data path. */
const DATA: Record<string, string> = {
  "/var/lib/docker": "volumes/shop_dbdata/_data",
  "/srv": "shop/uploads",
};
/** Each snapshot's subvolume id, as `btrfs subvolume list` reports it (above the mark, 280). */
export const IDS: Record<string, number> = {};
const uuidOf = (id: number) => `${`0000000${id}`.slice(-8)}-0000-0000-0000-000000000000`;
/** What this process has open at `/proc/self/fd/<n>` (or `path` itself). */
const opened = (path: string) => {
  const m = /^\/proc\/\d+\/fd\/\d+/.exec(path)?.[0];
  return m ? `${readlinkSync(m)}${path.slice(m.length)}` : path;
};

const manifest = JSON.stringify({
  id: "m1",
  source: { host: "h", userName: "kopi-docka", path: "/x" },
  startTime: "t",
  rootEntry: { summ: { size: 5, files: 1, numFailed: 0 } },
});

const ok = (argv: readonly string[], stdout = ""): RunResult => ({
  argv,
  exitCode: 0,
  signal: null,
  stdout,
  stderr: "",
  durationMs: 0,
  timedOut: false,
  aborted: false,
});

export interface HostOptions {
  /** kopia fails reading a path ending so. */
  failSnapshotOf?: string;
  failFreeze?: string;
  /** The snapshot returns only when cancelled (a killable wait). */
  hangFreeze?: boolean;
  /** The snapshot ignores its kill (btrfs stuck in the kernel) and returns after this many ms. */
  stuckFreezeMs?: number;
  /** This container is started by something else as the first filesystem snapshot is taken. */
  startedElsewhere?: string;
  /** This container's restart policy restarts it again and again by the look after the starts. */
  crashLoops?: string;
  /** The bind's snapshot holds a symlink where its data's first directory was. */
  plantLink?: boolean;
  /** Right after btrfs made it, the volume's snapshot is moved away and a link put at its name. */
  swapAway?: boolean;
  /** Read back after kopia's read, the snapshot's generation has moved (someone made it writable). */
  changedAfterRead?: boolean;
  maxColdSeconds?: number;
}

export function setup(o: HostOptions = {}) {
  const dir = tempDir("kd-fssnap-");
  const events: string[] = [];
  /** The snapshots btrfs made and has not deleted: path → its volume. */
  const made = new Map<string, string>();
  /** A path kopia is given, told as the snapshot (by its name when made) it reaches. */
  const told = (path: string) => {
    const real = opened(path);
    const moved = Object.entries(away).find(([, to]) => real.startsWith(to));
    return moved ? `${moved[0]}${real.slice(moved[1].length)}` : real;
  };
  /** Snapshots moved away: name → where. */
  const away: Record<string, string> = {};
  const kopia = (sub: string) => (a: readonly string[]) => a[0] === "kopia" && a.includes(sub);
  const fake = new FakeRunner([], [
    {
      argv: (a) =>
        kopia("snapshot")(a) && o.failSnapshotOf !== undefined && told(a[5] ?? "").endsWith(o.failSnapshotOf),
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
  const host = async (argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> => {
    if (argv[0] === "kopia" && argv[3] === "snapshot") events.push(`kopia ${told(argv[5] ?? "")}`);
    if (argv[0] === "btrfs" && argv[1] === "inspect-internal") {
      events.push(argv.slice(0, 3).join(" "));
      const at = opened(argv.at(-1) ?? "");
      const name = Object.keys(away).find((n) => away[n] === at) ?? at;
      return ok(argv, `${IDS[name] ?? 5}\n`);
    }
    if (argv[0] === "btrfs" && argv[2] !== "list") events.push(argv.join(" "));
    // A millisecond back: in the window, and earlier than the start kopi-docka issues after it.
    if (o.startedElsewhere && argv[3] === "-r" && argv[4] === "/var/lib/docker")
      docker.startedElsewhere(o.startedElsewhere, new Date(Date.now() - 1));
    if (argv[0] === "btrfs" && argv[2] === "list" && argv[3] === "--sort=-rootid")
      return ok(argv, "ID 280 gen 9 top level 5 path other\n");
    if (argv[0] === "btrfs" && argv[2] === "list") {
      const read = events.some((e) => e.startsWith("kopia"));
      const generation = o.changedAfterRead && read ? 10 : 9;
      const lines = [...made].map(([path, volume]) => {
        const id = IDS[path] ?? 0;
        const now = (away[path] ?? path).slice(1);
        return listLine({ id, uuid: uuidOf(id), parent: UUIDS[volume], generation, path: now });
      });
      return ok(argv, lines.join("\n"));
    }
    if (argv[0] === "btrfs" && argv[2] === "delete")
      for (const [path] of made) if (String(IDS[path]) === argv[4]) made.delete(path);
    if (o.hangFreeze && argv[3] === "-r")
      return new Promise((_, reject) =>
        opts.signal?.addEventListener("abort", () => reject(new Error("killed"))),
      );
    if (o.stuckFreezeMs !== undefined && argv[3] === "-r") {
      await Bun.sleep(o.stuckFreezeMs);
      events.push("btrfs snapshot returned");
    }
    const r = await fake.run(argv, opts);
    if (argv[0] === "btrfs" && argv[2] === "snapshot") {
      const [volume = "", path = ""] = argv.slice(4);
      IDS[path] ??= 300 + Object.keys(IDS).length;
      made.set(path, volume);
      const data = DATA[volume] ?? "";
      if (o.plantLink && volume === "/srv") {
        mkdirSync(path, { recursive: true });
        symlinkSync("/etc", join(path, data.split("/")[0] ?? ""));
      } else mkdirSync(join(path, data), { recursive: true });
      if (o.swapAway && volume === "/var/lib/docker") {
        away[path] = `${path}-away`;
        renameSync(path, away[path]);
        symlinkSync("/etc", path);
      }
    }
    return r;
  };
  const runner: Runner = { run: host };
  const names = ["web", "app", "db"].map((s) => `shop_${s}_1`);
  const docker = new FakeDocker({
    containers: names.map((n) => FakeDocker.container(`id-${n}`, { StartedAt: "2025-01-01T00:00:00Z" }, n)),
    before: (call) => {
      if (/^(stop|start) /.test(call)) events.push(call.split(" ").slice(0, 2).join(" "));
      const c = o.crashLoops && call.startsWith("inspect ") ? docker.containers.get(o.crashLoops) : undefined;
      if (c) c.State = { ...c.State, Status: "restarting", Restarting: true, ExitCode: 1 };
    },
  });
  const maxCold = o.maxColdSeconds ?? (o.hangFreeze ? 1 : undefined);
  const fs: FsFacts = {
    ...hostFs,
    inode: (p) => (/^\/proc\/\d+\/fd\/\d+\/\.$/.test(p) ? 256 : hostFs.inode(p)),
    mountRoot: () => "/",
  };
  const base = backupDeps({
    config: config({
      units: { shop: { mode: "fs-snapshot", ...(maxCold ? { max_cold_seconds: maxCold } : {}) } },
    }),
    runner,
    docker,
    dir: dir.path,
  });
  const deps = { ...base, fs };
  const snaps = join(dir.path, "snaps");
  const unit = { ...stackUnit(), mode: "fs-snapshot" as const };
  const plan = planBackup(deps.config, discovery(unit), new Date(), {
    ...planOpts,
    stagingDir: dir.path,
    scope: "minimal",
  });
  return {
    deps,
    unit,
    plan,
    events,
    dir,
    journalDir: join(dir.path, "journal"),
    onBtrfs: placements(snaps),
    snap1: join(snaps, "docker", ".kopi-docka-snap-RUN-01-1"),
    snap2: join(snaps, "srv", ".kopi-docka-snap-RUN-01-2"),
  };
}

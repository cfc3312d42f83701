import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TCPSocketListener } from "bun";
import { parseConfigText } from "../../../../src/config/load.ts";
import { createKopia } from "../../../../src/core/kopia/kopia.ts";
import { silentLogger } from "../../../../src/core/log.ts";
import { missingPacks } from "../../../../src/core/repository/integrity.ts";
import { blobsToDelete, refusedMarker, syncedMarker } from "../../../../src/core/repository/replica-guard.ts";
import { syncReplicas } from "../../../../src/core/repository/replicas.ts";
import { writeLedger } from "../../../../src/core/repository/snapshot-ledger.ts";
import { type Expectation, FakeRunner } from "../../../fakes/fake-runner.ts";
import { tempDir } from "../../../helpers/env.ts";
import { kopiaOn } from "../../../helpers/kopia.ts";

const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

// The S3 replica's connection test is one TCP connect: something must accept it.
let listener: TCPSocketListener;
beforeAll(() => {
  listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
});
afterAll(() => listener.stop(true));

const SECRET = "s3-secret-value";

/** A host with one replica ("filesystem": a temp path; "s3": a prefix behind the loopback listener). */
function host(runner: FakeRunner, kind: "filesystem" | "s3") {
  const t = tempDir("kdt-replica-unit-");
  dirs.push(t);
  const d = t.path;
  writeFileSync(join(d, "pw"), "pw\n", { mode: 0o600 });
  writeFileSync(join(d, "secret"), `${SECRET}\n`, { mode: 0o600 });
  writeFileSync(join(d, "key-id"), "AKID\n", { mode: 0o600 });
  const replicaPath = join(d, "mnt", "offsite");
  mkdirSync(replicaPath, { recursive: true }); // made once by the person, on the mounted disk
  const replica =
    kind === "filesystem"
      ? `backend = "filesystem"\npath = "${replicaPath}"\n`
      : `backend = "s3"\nbucket = "b"\nprefix = "p/"\nendpoint = "127.0.0.1:${listener.port}"\ntls = false\n` +
        `access_key_id_file = "${join(d, "key-id")}"\nsecret_access_key_file = "${join(d, "secret")}"\n`;
  const config = parseConfigText(
    `[repository]\npath = "${join(d, "repo")}"\npassword_file = "${join(d, "pw")}"\n\n[[replicas]]\nname = "offsite"\n${replica}`,
    "x",
  );
  const kopia = kopiaOn(runner, d);
  const deps = { kopia, runner, config, paths: { stateDir: join(d, "state") }, log: silentLogger() };
  return { d, replicaPath, deps, marker: syncedMarker(deps.paths.stateDir, "offsite") };
}

/** A `sync-to` call: dry run or not, `--must-exist` or not. */
const syncTo =
  (o: { dryRun: boolean; mustExist: boolean }) =>
  (argv: readonly string[]): boolean =>
    argv[3] === "repository" &&
    argv[4] === "sync-to" &&
    argv.includes("--dry-run") === o.dryRun &&
    argv.includes("--must-exist") === o.mustExist;

const NO_FORMAT = "ERROR destination repository does not have a format blob\n";
const summary = (n: number) =>
  `Looking for BLOBs to synchronize...\n  Found ${n} BLOBs to delete (12 B), 5 in sync (3 KiB)\n`;
const probeOurs = (exitCode: number): Expectation => ({
  argv: syncTo({ dryRun: true, mustExist: true }),
  exitCode,
  stderr: exitCode ? NO_FORMAT : summary(0),
});
const countDeletes = (n: number): Expectation => ({
  argv: syncTo({ dryRun: true, mustExist: false }),
  stderr: summary(n),
});
/** `kopia content verify` on the primary, before any replica is touched. */
const VERIFY_OK = `verifyCounters:\t{"verifiedContents":4,"totalErrorCount":0,"missingPacks":0,"truncatedPacks":0}\n`;
const packsWhole = (o: Partial<Expectation> = {}): Expectation => ({
  argv: (a) => a[3] === "content" && a[4] === "verify",
  stderr: VERIFY_OK,
  ...o,
});
const snapshotsReadable = (o: Partial<Expectation> = {}): Expectation => ({
  argv: (a) => a[3] === "snapshot" && a[4] === "verify" && a.includes("--verify-files-percent=0"),
  stderr: "Listed 12 blobs.\nFinished processing 40 objects (1 MB). Read 0 files (0 B).\n",
  ...o,
});
/** `kopia snapshot list` for the snapshot ledger (none yet: the first check records them). */
const snapshotsListed = (o: Partial<Expectation> = {}): Expectation => ({
  argv: (a) => a[3] === "snapshot" && a[4] === "list",
  stdout: "[]",
  ...o,
});
/** The three checks of the primary pass. */
const intact = (): Expectation[] => [packsWhole(), snapshotsReadable(), snapshotsListed()];
const realSync = (mustExist: boolean, o: Partial<Expectation> = {}): Expectation => ({
  argv: syncTo({ dryRun: false, mustExist }),
  ...o,
});

describe("syncReplicas: the first sync to a location", () => {
  test("an empty location: two dry runs, then the copy; the marker is written", async () => {
    const runner = new FakeRunner([...intact(), probeOurs(1), countDeletes(0), realSync(false)]);
    const h = host(runner, "filesystem");
    const [r] = await syncReplicas(h.deps);
    expect(r).toMatchObject({ name: "offsite", status: "ok" });
    expect(runner.remaining).toBe(0);
    expect(JSON.parse(readFileSync(h.marker, "utf8")).location).toBe(h.replicaPath);
  });

  test("a first copy into a directory that is not there (its disk not mounted: an empty mountpoint): refused, nothing made", async () => {
    const runner = new FakeRunner([...intact()]);
    const h = host(runner, "filesystem");
    rmSync(h.replicaPath, { recursive: true });
    const [r] = await syncReplicas(h.deps);
    expect(r?.status).toBe("failed");
    expect(r?.error).toContain(`${h.replicaPath} does not exist (is its disk mounted?); nothing was copied`);
    expect(existsSync(h.replicaPath)).toBe(false);
    expect(runner.calls.some((c) => c.argv.includes("sync-to"))).toBe(false);
  });

  test("an S3 prefix that is no folder, or one overlapping the primary's bucket and prefix: refused before kopia runs", async () => {
    for (const [prefix, want] of [
      ["p", 'prefix "p" is not a folder'],
      ["", 'prefix "" holds the primary repository\'s "kd/" in the same bucket'],
    ] as const) {
      const runner = new FakeRunner([...intact()]);
      const h = host(runner, "s3");
      const replica = { ...h.deps.config.replicas[0], prefix } as (typeof h.deps.config.replicas)[number];
      const primary = {
        ...replica,
        name: undefined,
        prefix: "kd/",
      } as unknown as typeof h.deps.config.repository;
      const config = {
        ...h.deps.config,
        replicas: [replica],
        ...(prefix === "" ? { repository: primary } : {}),
      };
      const [r] = await syncReplicas({ ...h.deps, config });
      expect(r?.status).toBe("failed");
      expect(r?.error).toContain(want);
      expect(runner.calls.some((c) => c.argv.includes("sync-to"))).toBe(false);
    }
  });

  test("a location already holding this repository (kopia compared the IDs): copied, no count needed", async () => {
    const runner = new FakeRunner([...intact(), probeOurs(0), realSync(false)]);
    const h = host(runner, "s3");
    expect((await syncReplicas(h.deps))[0]?.status).toBe("ok");
    expect(runner.remaining).toBe(0);
    expect(existsSync(h.marker)).toBe(true);
  });

  test("an S3 prefix holding other objects: refused before any copy or delete, no marker", async () => {
    const runner = new FakeRunner([...intact(), probeOurs(1), countDeletes(3)]);
    const h = host(runner, "s3");
    const [r] = await syncReplicas(h.deps);
    expect(r?.status).toBe("failed");
    expect(r?.error).toContain("replica offsite at s3://b/p/");
    expect(r?.error).toContain("holds 3 object(s) that are not this repository");
    expect(runner.calls.some((c) => syncTo({ dryRun: false, mustExist: false })(c.argv))).toBe(false);
    expect(existsSync(h.marker)).toBe(false);
  });

  test("refused once, refused again: kopia's --must-exist now passes on the format blob it left, yet nothing is copied or deleted", async () => {
    const first = new FakeRunner([...intact(), probeOurs(1), countDeletes(3)]);
    const h = host(first, "s3");
    expect((await syncReplicas(h.deps))[0]?.status).toBe("failed");
    const again = new FakeRunner([...intact()]);
    const [r] = await syncReplicas({
      ...h.deps,
      runner: again,
      kopia: createKopia(again, h.deps.kopia.options),
    });
    expect(r?.status).toBe("failed");
    expect(r?.error).toContain("holds data that are not this repository; nothing was copied or deleted");
    expect(again.remaining).toBe(0);
    expect(again.calls.some((c) => c.argv.includes("sync-to"))).toBe(false);
  });

  test("a count cut short after kopia left its format blob: the next sync counts again, never takes --must-exist's pass", async () => {
    const first = new FakeRunner([
      ...intact(),
      probeOurs(1),
      { argv: syncTo({ dryRun: true, mustExist: false }), exitCode: 1, stderr: "ERROR listing timed out\n" },
    ]);
    const h = host(first, "s3");
    expect((await syncReplicas(h.deps))[0]?.status).toBe("failed");
    // Now kopia's --must-exist would pass on its own format blob; the location still holds 3 other objects.
    const again = new FakeRunner([...intact(), countDeletes(3)]);
    const [r] = await syncReplicas({
      ...h.deps,
      runner: again,
      kopia: createKopia(again, h.deps.kopia.options),
    });
    expect(r?.status).toBe("failed");
    expect(r?.error).toContain("holds 3 object(s) that are not this repository");
    expect(again.calls.some((c) => syncTo({ dryRun: true, mustExist: true })(c.argv))).toBe(false);
    expect(again.calls.some((c) => syncTo({ dryRun: false, mustExist: false })(c.argv))).toBe(false);
    expect(again.calls.some((c) => syncTo({ dryRun: false, mustExist: true })(c.argv))).toBe(false);
    // Counted to zero once it is empty: the copy is made, the marker gone.
    const clean = new FakeRunner([...intact(), countDeletes(0), realSync(false)]);
    const marker = refusedMarker(h.deps.paths.stateDir, "offsite");
    const { location } = JSON.parse(readFileSync(marker, "utf8"));
    writeFileSync(marker, JSON.stringify({ location, checking: true }));
    const [ok] = await syncReplicas({
      ...h.deps,
      runner: clean,
      kopia: createKopia(clean, h.deps.kopia.options),
    });
    expect(ok?.status).toBe("ok");
    expect(existsSync(refusedMarker(h.deps.paths.stateDir, "offsite"))).toBe(false);
  });

  test("a dry run whose summary cannot be read is refused too (fail closed)", async () => {
    const runner = new FakeRunner([
      ...intact(),
      probeOurs(1),
      { ...countDeletes(0), stderr: "something else\n" },
    ]);
    const h = host(runner, "s3");
    const [r] = await syncReplicas(h.deps);
    expect(r?.status).toBe("failed");
    expect(r?.error).toContain("holds data that are not this repository");
  });

  test("secrets reach kopia in env only, on every call", async () => {
    const runner = new FakeRunner([...intact(), probeOurs(1), countDeletes(0), realSync(false)]);
    const h = host(runner, "s3");
    await syncReplicas(h.deps);
    expect(runner.calls).toHaveLength(6);
    for (const c of runner.calls) expect(c.argv.join(" ")).not.toContain(SECRET);
    // The replica's secret goes to the calls that reach the replica, not to the primary's checks.
    for (const c of runner.calls.slice(3)) expect(c.options.env?.AWS_SECRET_ACCESS_KEY).toBe(SECRET);
    for (const c of runner.calls.slice(0, 3)) expect(c.options.env?.AWS_SECRET_ACCESS_KEY).toBeUndefined();
  });
});

describe("syncReplicas: after a first sync (the marker)", () => {
  test("one call, with --must-exist; a missing filesystem path is not created", async () => {
    const runner = new FakeRunner([...intact(), realSync(true)]);
    const h = host(runner, "filesystem");
    rmSync(h.replicaPath, { recursive: true }); // the disk is not mounted
    mkdirSync(join(h.deps.paths.stateDir, "replicas", "offsite"), { recursive: true });
    writeFileSync(h.marker, JSON.stringify({ location: h.replicaPath }));
    expect((await syncReplicas(h.deps))[0]?.status).toBe("ok");
    expect(runner.remaining).toBe(0);
    expect(existsSync(h.replicaPath)).toBe(false);
  });

  test("the copy is gone (an unmounted disk): the sync fails naming the replica, nothing is made", async () => {
    const runner = new FakeRunner([
      ...intact(),
      realSync(true, { exitCode: 1, stderr: "ERROR cannot access storage path: stat /x: no such file\n" }),
    ]);
    const h = host(runner, "filesystem");
    rmSync(h.replicaPath, { recursive: true }); // the disk is not mounted
    mkdirSync(join(h.deps.paths.stateDir, "replicas", "offsite"), { recursive: true });
    writeFileSync(h.marker, JSON.stringify({ location: h.replicaPath }));
    const [r] = await syncReplicas(h.deps);
    expect(r?.status).toBe("failed");
    expect(r?.error).toContain(`replica offsite at ${h.replicaPath} no longer holds the copy`);
    expect(r?.error).toContain("is the disk mounted?");
    expect(existsSync(h.replicaPath)).toBe(false);
  });

  test("an S3 prefix without the copy (kopia's --must-exist): failed, not re-made", async () => {
    const runner = new FakeRunner([...intact(), realSync(true, { exitCode: 1, stderr: NO_FORMAT })]);
    const h = host(runner, "s3");
    mkdirSync(join(h.deps.paths.stateDir, "replicas", "offsite"), { recursive: true });
    writeFileSync(h.marker, JSON.stringify({ location: `s3://b/p/ at http://127.0.0.1:${listener.port}` }));
    const [r] = await syncReplicas(h.deps);
    expect(r?.error).toContain(
      "no longer holds the copy made there before: is the location right? nothing was copied",
    );
    expect(runner.remaining).toBe(0);
  });

  test("a marker for another location (the replica was moved): the first-sync checks run again", async () => {
    const runner = new FakeRunner([...intact(), probeOurs(1), countDeletes(0), realSync(false)]);
    const h = host(runner, "filesystem");
    mkdirSync(join(h.deps.paths.stateDir, "replicas", "offsite"), { recursive: true });
    writeFileSync(h.marker, JSON.stringify({ location: "/somewhere/else" }));
    expect((await syncReplicas(h.deps))[0]?.status).toBe("ok");
    expect(JSON.parse(readFileSync(h.marker, "utf8")).location).toBe(h.replicaPath);
  });

  test("an unreadable marker counts as one (fail closed)", async () => {
    const runner = new FakeRunner([...intact(), realSync(true)]);
    const h = host(runner, "filesystem");
    mkdirSync(join(h.deps.paths.stateDir, "replicas", "offsite"), { recursive: true });
    writeFileSync(h.marker, "{not json");
    expect((await syncReplicas(h.deps))[0]?.status).toBe("ok");
    expect(runner.remaining).toBe(0);
  });
});

describe("syncReplicas: the primary is checked first", () => {
  // kopia's own words when an index entry's pack blob is gone (repo/content/verify.go).
  const DAMAGED =
    "content 7e9c depends on missing blob pebc3150\n" +
    `verifyCounters:\t{"verifiedContents":4,"totalErrorCount":1,"contentsInMissingPacks":1,"missingPacks":1,"truncatedPacks":0,"corruptedPacks":0}\n` +
    "verify contents: encountered 1 errors: the repository is corrupted, it is missing pack blobs with index-referenced content\n";

  test("pack blobs missing in the primary: no replica is synced (its --delete would drop them there too)", async () => {
    const runner = new FakeRunner([packsWhole({ exitCode: 1, stderr: DAMAGED })]);
    const h = host(runner, "filesystem");
    mkdirSync(join(h.deps.paths.stateDir, "replicas", "offsite"), { recursive: true });
    writeFileSync(h.marker, JSON.stringify({ location: h.replicaPath }));
    const [r] = await syncReplicas(h.deps);
    expect(r?.status).toBe("failed");
    expect(r?.error).toBe(
      "the repository is damaged: 1 pack blob(s) its index refers to are missing, 0 truncated; no replica was synced, so each still holds them",
    );
    expect(runner.remaining).toBe(0);
    expect(runner.calls.some((c) => c.argv.includes("sync-to"))).toBe(false);
  });

  test("a check that fails otherwise fails closed: nothing synced, kopia's error named", async () => {
    const runner = new FakeRunner([
      packsWhole({ exitCode: 1, stderr: "ERROR unable to list blobs: timeout\n" }),
    ]);
    const h = host(runner, "filesystem");
    const [r] = await syncReplicas(h.deps);
    expect(r?.status).toBe("failed");
    expect(r?.error).toContain("unable to list blobs");
    expect(runner.remaining).toBe(0);
  });

  test("an index blob lost in the primary (packs all there): no replica is synced (its --delete would drop that index there too)", async () => {
    // kopia's words when a snapshot's object is no longer in the index (snapshot/snapshotfs/verifier.go).
    const LOST_INDEX =
      "error processing kopi-docka@h:/kopi-docka/app/volumes/v@2026-12-02 10:00:00 UTC/d1: error reading directory: unable to open object: k7ee0: content k7ee0 not found: object not found\n";
    const runner = new FakeRunner([packsWhole(), snapshotsReadable({ exitCode: 1, stderr: LOST_INDEX })]);
    const h = host(runner, "filesystem");
    const [r] = await syncReplicas(h.deps);
    expect(r?.status).toBe("failed");
    expect(r?.error).toBe(
      "the repository is damaged: a snapshot refers to data its index no longer lists, or to a missing pack blob (an index blob lost?); no replica was synced, so each still holds them",
    );
    expect(runner.remaining).toBe(0);
    expect(runner.calls.some((c) => c.argv.includes("sync-to"))).toBe(false);
  });

  test("a snapshot check that fails otherwise fails closed too: nothing synced, kopia's error named", async () => {
    const runner = new FakeRunner([
      packsWhole(),
      snapshotsReadable({ exitCode: 1, stderr: "ERROR error listing blobs: connection refused\n" }),
    ]);
    const h = host(runner, "filesystem");
    const [r] = await syncReplicas(h.deps);
    expect(r?.status).toBe("failed");
    expect(r?.error).toContain("connection refused");
    expect(runner.calls.some((c) => c.argv.includes("sync-to"))).toBe(false);
  });

  test("a snapshot listed at the last check gone (its index blob lost with it): no replica is synced", async () => {
    const runner = new FakeRunner([packsWhole(), snapshotsReadable(), snapshotsListed()]);
    const h = host(runner, "filesystem");
    writeLedger(h.deps.paths.stateDir, { host: "h", userName: "kopi-docka" }, [
      "app@b1 volume:data 2026-12-01T02:00:00Z",
    ]);
    const [r] = await syncReplicas(h.deps);
    expect(r?.status).toBe("failed");
    expect(r?.error).toContain("1 snapshot(s) of 1 restore point(s) (app@b1) were in the repository");
    expect(r?.error).toContain("no replica was synced, so each still holds them");
    expect(runner.remaining).toBe(0);
    expect(runner.calls.some((c) => c.argv.includes("sync-to"))).toBe(false);
  });

  test("missingPacks reads kopia's counters line; anything else is unknown", () => {
    expect(missingPacks(DAMAGED)).toEqual({ missing: 1, truncated: 0 });
    expect(missingPacks(VERIFY_OK)).toEqual({ missing: 0, truncated: 0 });
    expect(missingPacks("verifyCounters:\t{broken")).toBeUndefined();
    expect(missingPacks("")).toBeUndefined();
  });
});

test("blobsToDelete reads kopia's dry-run summary", () => {
  expect(blobsToDelete(summary(0))).toBe(0);
  expect(blobsToDelete(summary(42))).toBe(42);
  expect(blobsToDelete("Found 3 BLOBs in the destination repository")).toBeUndefined();
});

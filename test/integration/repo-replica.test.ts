import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { acquireLock } from "../../src/core/lock/acquire.ts";
import { blobFiles, loseIndexBlob } from "../helpers/blobs.ts";
import { runCli } from "../helpers/cli.ts";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { type SshServer, serversAvailable, startS3, startSshd, type TestServer } from "../helpers/servers.ts";

const env = { KOPI_DOCKA_TEST_SOURCE: "1" };

// 3-2-1: a filesystem primary and an SFTP replica (real sshd on loopback). After a backup the
// replica holds the repository; with the primary gone, restore reads the replica.
describeReal("replication: filesystem primary, SFTP replica", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-replica-");
  const name = uniqueName("kdt-replica");
  const volume = `${name}-v`;
  let ssh: SshServer;
  let s3: TestServer;
  let config = "";
  const cli = (...a: string[]) => runCli([...a, "--config", config], { env });
  const inside = async () =>
    (
      await run([
        "docker",
        "exec",
        name,
        "sh",
        "-c",
        "cd /data && stat -c '%n %a %u %s %Y' a.txt big.bin; sha256sum a.txt big.bin",
      ])
    ).stdout;

  beforeAll(async () => {
    if (!serversAvailable.sshd) throw new Error("sshd missing: run scripts/test-env.sh");
    if (!serversAvailable.moto) throw new Error("moto_server missing: run scripts/test-env.sh");
    ssh = await startSshd(join(dir.path, "sshd"));
    s3 = await startS3(dir.path, ["kdt-shared"]);
    const replica = (path: string) =>
      `\n[[replicas]]\nname = "offsite"\nbackend = "sftp"\nhost = "127.0.0.1"\nport = ${ssh.port}\nuser = "${ssh.user}"\n` +
      `path = "${path}"\nkey_file = "${ssh.keyFile}"\nknown_hosts_file = "${ssh.knownHosts}"\n`;
    config = writeTestConfig(dir.path, `[backup]\nstop_timeout = 2\n${replica(join(dir.path, "offsite"))}`);
    await startContainer(
      name,
      volume,
      [],
      "[ -f /data/a.txt ] || { echo hello > /data/a.txt; head -c 2000000 /dev/urandom > /data/big.bin; }; trap 'exit 0' TERM; while true; do sleep 0.2; done",
    );
  }, 120_000);

  /** `repo sync` refuses the damaged primary: exit 3, the replica failed for `why`. */
  const syncRefused = async (why: string) => {
    const r = await cli("repo", "sync", "--json");
    expect(r.exitCode).toBe(3);
    const [offsite] = JSON.parse(r.stdout);
    expect(offsite).toMatchObject({ name: "offsite", status: "failed" });
    expect(offsite.error).toContain(why);
  };

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
    await run(["docker", "volume", "rm", "-f", volume], { check: false });
    await ssh?.stop();
    await s3?.stop();
    dir.remove();
  }, 60_000);

  test("a backup copies the repository to the replica; the run record says so", async () => {
    const r = await cli("backup", "--unit", name, "--json");
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    expect(JSON.parse(r.stdout).replicas).toEqual([
      expect.objectContaining({
        name: "offsite",
        status: "ok",
        location: expect.stringContaining("sftp://"),
      }),
    ]);
    expect(existsSync(join(dir.path, "offsite", "kopia.repository.f"))).toBe(true);
    expect((await cli("history")).stdout).toMatch(/replica offsite\s+ok/);
  }, 180_000);

  test("a failing replica never fails the backup: exit 3 naming it, snapshots saved", async () => {
    const bad = join(dir.path, "bad.toml");
    writeFileSync(bad, readFileSync(config, "utf8").replace(ssh.knownHosts, ssh.wrongKnownHosts));
    const r = await runCli(["backup", "--unit", name, "--config", bad], { env });
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 3 });
    expect(r.stderr).toContain("replica offsite: FAILED");
    expect(r.stderr).toContain("1 of 1 units OK");
  }, 180_000);

  test("repo sync --replica offsite copies by hand", async () => {
    const r = await cli("repo", "sync", "--replica", "offsite");
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    expect(r.stdout).toContain("replica offsite (sftp://");
  }, 120_000);

  test("doctor: the synced SFTP replica opens with real kopia (ok); behind a host key not the pinned one it fails as the sync would", async () => {
    const replicaLine = async (file: string) => {
      const r = await runCli(["doctor", "--json", "--config", file], { env });
      const checks = JSON.parse(r.stdout).checks as { id: string; status: string; detail: string }[];
      return checks.find((c) => c.id === "replica");
    };
    const good = await replicaLine(config);
    expect(good).toMatchObject({ status: "ok" });
    expect(good?.detail).toMatch(
      /^offsite at sftp:\/\/.* opens with the configured credentials and password; last copy on record/,
    );
    const bad = join(dir.path, "bad-doctor.toml");
    writeFileSync(bad, readFileSync(config, "utf8").replace(ssh.knownHosts, ssh.wrongKnownHosts));
    const refused = await replicaLine(bad);
    expect(refused).toMatchObject({ status: "fail" });
    expect(refused?.detail).toContain("presented a host key that is not the pinned one");
  }, 120_000);

  /** The main config plus one more replica, synced by hand with `repo sync --replica NAME --json`. */
  const withReplica = (file: string, toml: string) => {
    const path = join(dir.path, file);
    writeFileSync(path, `${readFileSync(config, "utf8")}\n[[replicas]]\n${toml}`);
    return async (replica: string) => {
      const r = await runCli(["repo", "sync", "--replica", replica, "--json", "--config", path], { env });
      return { exit: r.exitCode, stderr: r.stderr, results: r.stdout ? JSON.parse(r.stdout) : undefined };
    };
  };

  test("repo sync: a replica name that is none is exit 2 at once; while a backup holds the lock, exit 11 and nothing copied", async () => {
    const typo = await cli("repo", "sync", "--replica", "ofsite");
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toContain("there is no replica named ofsite");
    const lock = await acquireLock(join(dir.path, "kopi-docka.lock"), {
      runId: "test-backup",
      command: "backup",
    });
    try {
      const r = await cli("repo", "sync", "--replica", "offsite");
      expect(r.exitCode).toBe(11);
      const m = await cli("repo", "maintenance");
      expect(m.exitCode).toBe(11);
    } finally {
      lock.release();
    }
  }, 120_000);

  test("a first sync into an S3 prefix holding another object is refused; the object survives", async () => {
    writeFileSync(join(dir.path, "s3-id"), "AKIDREPLICA\n", { mode: 0o600 });
    writeFileSync(join(dir.path, "s3-secret"), `s3-${crypto.randomUUID()}\n`, { mode: 0o600 });
    const theirs = `http://127.0.0.1:${s3.port}/kdt-shared/shared/report.csv`;
    expect((await fetch(theirs, { method: "PUT", body: "not kopia\n" })).ok).toBe(true);
    const sync = withReplica(
      "s3.toml",
      `name = "shared"\nbackend = "s3"\nbucket = "kdt-shared"\nprefix = "shared/"\nendpoint = "127.0.0.1:${s3.port}"\n` +
        `tls = false\naccess_key_id_file = "${join(dir.path, "s3-id")}"\nsecret_access_key_file = "${join(dir.path, "s3-secret")}"\n`,
    );
    const r = await sync("shared");
    const list = await (await fetch(`http://127.0.0.1:${s3.port}/kdt-shared?list-type=2`)).text();
    expect(list).toContain("<Key>shared/report.csv</Key>");
    expect(r.exit).toBe(3);
    expect(r.results).toEqual([expect.objectContaining({ name: "shared", status: "failed" })]);
    expect(r.results[0].error).toContain("replica shared at s3://kdt-shared/shared/");
    expect(r.results[0].error).toContain("holds 1 object(s) that are not this repository");
    // kopia left its format blob there, so its own --must-exist check passes now: the next night's
    // sync must still refuse, or its --delete removes the other object.
    const again = await sync("shared");
    expect(again.exit).toBe(3);
    expect(again.results[0].error).toContain("that are not this repository; nothing was copied or deleted");
    const after = await (await fetch(`http://127.0.0.1:${s3.port}/kdt-shared?list-type=2`)).text();
    expect(after).toContain("<Key>shared/report.csv</Key>");
  }, 120_000);

  test("a filesystem replica whose copy vanished after a first sync fails; no new copy is made", async () => {
    const usb = join(dir.path, "usb");
    mkdirSync(join(usb, "kopia"), { recursive: true }); // made once on the mounted disk: a first copy needs it
    const sync = withReplica(
      "usb.toml",
      `name = "usb"\nbackend = "filesystem"\npath = "${join(usb, "kopia")}"\n`,
    );
    const first = await sync("usb");
    expect({ exit: first.exit, stderr: first.stderr }).toMatchObject({ exit: 0 });
    expect(existsSync(join(usb, "kopia", "kopia.repository.f"))).toBe(true);
    rmSync(usb, { recursive: true, force: true }); // the disk is not mounted any more
    const r = await sync("usb");
    expect(r.exit).toBe(3);
    expect(r.results).toEqual([expect.objectContaining({ name: "usb", status: "failed" })]);
    expect(r.results[0].error).toContain("no longer holds the copy");
    expect(existsSync(usb)).toBe(false);
  }, 120_000);

  test("the primary lost a pack blob: no replica is synced, each keeps its copy; once back, syncing goes on", async () => {
    const packs = async (root: string) => (await blobFiles(root)).filter((f) => /^p[0-9a-f]{32}/.test(f.id));
    // The biggest pack of the filesystem primary (it holds big.bin), as a failing disk would lose it.
    const [pack] = (await packs(join(dir.path, "repository"))).sort((a, b) => b.size - a.size);
    const inPrimary = pack?.path as string;
    const inReplica = (await packs(join(dir.path, "offsite"))).find((f) => f.id === pack?.id)?.path as string;
    expect(inReplica).toBeDefined();
    expect(existsSync(inReplica)).toBe(true);
    renameSync(inPrimary, join(dir.path, "lost-pack"));
    await syncRefused("1 pack blob(s) its index refers to are missing");
    expect(existsSync(inReplica)).toBe(true); // kopia's --delete would have removed it here
    // A backup still saves its snapshots; only the copy is held back, and the run says so (exit 3).
    const b = await cli("backup", "--unit", name);
    expect(b.exitCode).toBe(3);
    expect(b.stderr).toContain("replica offsite: FAILED (the repository is damaged");
    expect(existsSync(inReplica)).toBe(true);
    renameSync(join(dir.path, "lost-pack"), inPrimary);
    const again = await cli("repo", "sync");
    expect({ exit: again.exitCode, stderr: again.stderr }).toMatchObject({ exit: 0 });
  }, 240_000);

  test("the primary lost an index blob (every pack still there): no replica is synced, each keeps that index; once back, syncing goes on", async () => {
    // kopia's own check finds the snapshots unreadable, though every pack the index lists is there.
    const lost = join(dir.path, "lost-index");
    const index = await loseIndexBlob(
      join(dir.path, "repository"),
      lost,
      async () => (await cli("repo", "verify")).exitCode !== 0,
    );
    expect(index).toBeDefined();
    const inPrimary = index?.path as string;
    const inReplica = (await blobFiles(join(dir.path, "offsite"))).find((f) => f.id === index?.id)
      ?.path as string;
    expect(inReplica).toBeDefined();
    await syncRefused("a snapshot refers to data its index no longer lists");
    expect(existsSync(inReplica)).toBe(true); // kopia's --delete would have removed it here
    renameSync(lost, inPrimary);
    const again = await cli("repo", "sync");
    expect({ exit: again.exitCode, stderr: again.stderr }).toMatchObject({ exit: 0 });
    expect(existsSync(inReplica)).toBe(true);
  }, 240_000);

  test("the primary lost the index blobs of its newest point (every check that reads what is listed passes): no replica is synced; kopi-docka's own delete is no loss", async () => {
    const points = async () =>
      JSON.parse((await cli("snapshots", "--json")).stdout).points.map(
        (p: { key: string }) => p.key,
      ) as string[];
    const mark = Date.now();
    const b = await cli("backup", "--unit", name); // its sync records the new point in the ledger
    expect({ exit: b.exitCode, stderr: b.stderr }).toMatchObject({ exit: 0 });
    const [newest, ...older] = await points();
    const primary = join(dir.path, "repository");
    // The data is unchanged since the last backup: the blobs this one indexed hold manifests only.
    const fresh = (await blobFiles(primary)).filter(
      (f) => /^x/.test(f.id) && statSync(f.path).mtimeMs >= mark,
    );
    expect(fresh.length).toBeGreaterThan(0);
    const lost = join(dir.path, "lost-new-index");
    mkdirSync(lost);
    for (const f of fresh) renameSync(f.path, join(lost, f.id));
    expect(await points()).toEqual(older); // the point is simply no longer listed…
    expect((await cli("repo", "verify")).exitCode).toBe(0); // …and kopia finds nothing wrong
    await syncRefused(`(${newest}) were in the repository at the last check and are gone`);
    const replica = new Set((await blobFiles(join(dir.path, "offsite"))).map((f) => f.id));
    for (const f of fresh) expect(replica.has(f.id)).toBe(true); // --delete would have removed them there
    const full = await cli("repo", "maintenance", "--full");
    expect(full.exitCode).toBe(10);
    expect(full.stderr).toContain("full maintenance was not run");
    // The hint's way back: kopia rebuilds the index from the packs, and the point is there again.
    const recover = await runCli(
      ["kopia", "--config", config, "--", "index", "recover", "--commit", "--dangerous-commands=enabled"],
      {
        env,
      },
    );
    expect({ exit: recover.exitCode, stderr: recover.stderr }).toMatchObject({ exit: 0 });
    expect(await points()).toEqual([newest as string, ...older]);
    const again = await cli("repo", "sync");
    expect({ exit: again.exitCode, stderr: again.stderr }).toMatchObject({ exit: 0 });
    // Deleted through kopi-docka: known not to be a loss, the next sync goes on.
    const oldest = older.at(-1) as string;
    expect((await cli("snapshots", "delete", "--run", oldest, "--yes")).exitCode).toBe(0);
    const afterDelete = await cli("repo", "sync");
    expect({ exit: afterDelete.exitCode, stderr: afterDelete.stderr }).toMatchObject({ exit: 0 });
    // By hand through kopi-docka's own kopia command: a deletion too.
    const kd = (...a: string[]) => runCli(["kopia", "--config", config, "--", ...a], { env });
    const volumeSnapshots = async () =>
      (
        JSON.parse((await kd("snapshot", "list", "--json", "--all")).stdout) as {
          id: string;
          tags?: Record<string, string>;
        }[]
      )
        .filter((m) => m.tags?.["tag:unit"] === name && m.tags?.["tag:type"] === "volume")
        .map((m) => m.id);
    const [one, two] = await volumeSnapshots();
    expect((await kd("snapshot", "delete", one as string, "--delete")).exitCode).toBe(0);
    const afterHand = await cli("repo", "sync");
    expect({ exit: afterHand.exitCode, stderr: afterHand.stderr }).toMatchObject({ exit: 0 });
    // With kopia itself, behind kopi-docka's back: refused until the person says so.
    await run(
      [
        "kopia",
        "--config-file",
        join(dir.path, "state", "kopia", "repository.config"),
        "snapshot",
        "delete",
        two as string,
        "--delete",
      ],
      { env: { KOPIA_PASSWORD: readFileSync(join(dir.path, "repository.password"), "utf8").trim() } },
    );
    await syncRefused("were in the repository at the last check and are gone");
    const accepted = await cli("repo", "sync", "--accept-deleted");
    expect({ exit: accepted.exitCode, stderr: accepted.stderr }).toMatchObject({ exit: 0 });
    expect((await cli("repo", "sync")).exitCode).toBe(0);
  }, 300_000);

  test("the primary gone: restore --repository replica:offsite brings the unit back, bytes equal", async () => {
    const before = await inside();
    rmSync(join(dir.path, "repository"), { recursive: true, force: true });
    await run(["docker", "rm", "-f", name]);
    await run(["docker", "volume", "rm", volume]);
    const primary = await cli("restore", "--unit", name, "--latest", "--yes");
    expect(primary.exitCode).toBe(10); // the primary is gone, and says so
    const fromReplica = (...extra: string[]) =>
      cli("restore", "--repository", "replica:offsite", "--unit", name, "--latest", "--yes", ...extra);
    const r = await fromReplica("--start");
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    expect(await inside()).toBe(before);
    expect(existsSync(join(dir.path, "repository"))).toBe(false); // nothing re-created in the primary's place
    // Once more, over the data just restored: its undo point can only go into the replica, and is said
    // to last only until the next sync of a primary to it.
    const again = await fromReplica();
    expect({ exit: again.exitCode, stderr: again.exitCode ? again.stderr : "" }).toEqual({
      exit: 0,
      stderr: "",
    });
    expect(again.stderr).toContain(
      "is in replica:offsite only: the next sync of the primary to it removes it",
    );
  }, 180_000);
});

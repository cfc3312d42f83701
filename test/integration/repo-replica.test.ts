import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";
import { describeReal, run, startContainer, tempDir, uniqueName, writeTestConfig } from "../helpers/env.ts";
import { type SshServer, serversAvailable, startSshd } from "../helpers/servers.ts";

const env = { KOPI_DOCKA_TEST_SOURCE: "1" };

// 3-2-1: a filesystem primary and an SFTP replica (real sshd on loopback). After a backup the
// replica holds the repository; with the primary gone, restore reads the replica.
describeReal("replication: filesystem primary, SFTP replica", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-replica-");
  const name = uniqueName("kdt-replica");
  const volume = `${name}-v`;
  let ssh: SshServer;
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
    ssh = await startSshd(join(dir.path, "sshd"));
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

  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
    await run(["docker", "volume", "rm", "-f", volume], { check: false });
    await ssh?.stop();
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

  test("the primary gone: restore --repository replica:offsite brings the unit back, bytes equal", async () => {
    const before = await inside();
    rmSync(join(dir.path, "repository"), { recursive: true, force: true });
    await run(["docker", "rm", "-f", name]);
    await run(["docker", "volume", "rm", volume]);
    const primary = await cli("restore", "--unit", name, "--latest", "--yes");
    expect(primary.exitCode).toBe(10); // the primary is gone, and says so
    const r = await cli(
      "restore",
      "--repository",
      "replica:offsite",
      "--unit",
      name,
      "--latest",
      "--yes",
      "--start",
    );
    expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
    expect(await inside()).toBe(before);
    expect(existsSync(join(dir.path, "repository"))).toBe(false); // nothing re-created in the primary's place
  }, 180_000);
});

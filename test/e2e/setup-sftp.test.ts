import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, cliArgv, runCli } from "../helpers/cli.ts";
import { describeReal, run, startContainer, tempDir, uniqueName } from "../helpers/env.ts";
import { type SshServer, serversAvailable, startSshd } from "../helpers/servers.ts";

/**
 * `setup --backend sftp` by flags (no terminal) against OpenSSH's sshd on 127.0.0.1: the backend's
 * keys are flags named from its schema; a fresh host gets its repository and a first good backup; a
 * missing key is a usage error naming its flag.
 */
const compiled = cliArgv()[0] === BINARY;
const ready = compiled && serversAvailable.sshd;
if (process.env.CI && !ready)
  test("the compiled binary and sshd exist", () => {
    throw new Error(`compiled=${compiled} sshd=${serversAvailable.sshd}`);
  });

describeReal("setup with the sftp backend on the compiled binary", ["docker", "kopia", "image"], () => {
  const dir = tempDir("kdt-e2e-setupsftp-");
  const name = uniqueName("kdtsetupsftp");
  const config = join(dir.path, "etc", "config.toml");
  let ssh: SshServer | undefined;
  const flags = () => [
    ...["setup", "--config", config, "--backend", "sftp", "--no-schedule"],
    ...["--sftp-host", "127.0.0.1", "--sftp-port", String(ssh?.port), "--sftp-user", ssh?.user ?? ""],
    ...["--sftp-path", join(dir.path, "remote", "repo"), "--sftp-key-file", ssh?.keyFile ?? ""],
    ...["--password-file", join(dir.path, "pw"), "--generate-password"],
    ...["--state-dir", join(dir.path, "state"), "--cache-dir", join(dir.path, "cache")],
    ...["--lock-file", join(dir.path, "kd.lock"), "--restore-dir", join(dir.path, "stacks")],
  ];

  beforeAll(async () => {
    if (!ready) return;
    ssh = await startSshd(join(dir.path, "sshd"));
    await startContainer(name, `${name}-v`);
  }, 60_000);
  afterAll(async () => {
    await run(["docker", "rm", "-f", name], { check: false });
    await run(["docker", "volume", "rm", "-f", `${name}-v`], { check: false });
    await ssh?.stop();
    dir.remove();
  }, 60_000);

  test.skipIf(!ready)("a missing backend key names its flag; nothing is written", async () => {
    const r = await runCli([...flags(), "--yes"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("--sftp-known-hosts-file");
    expect(existsSync(config)).toBe(false);
    expect(existsSync(join(dir.path, "pw"))).toBe(false);
  });

  test.skipIf(!ready)(
    "a fresh host: the SFTP repository is created, then a backup succeeds",
    async () => {
      const r = await runCli([...flags(), "--sftp-known-hosts-file", ssh?.knownHosts ?? "", "--yes"]);
      expect(r.stderr + r.stdout).toContain("(created)");
      expect(r.exitCode).toBe(0);
      const text = readFileSync(config, "utf8");
      expect(text).toContain('backend = "sftp"');
      expect(text).toContain(`port = ${ssh?.port}`);
      expect(existsSync(join(dir.path, "remote", "repo", "kopia.repository.f"))).toBe(true);
      const b = await runCli(["backup", "--config", config, "--unit", name]);
      expect(b.exitCode).toBe(0);
    },
    240_000,
  );
});

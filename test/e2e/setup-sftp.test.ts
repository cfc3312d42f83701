import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, cliArgv, runCli } from "../helpers/cli.ts";
import { describeReal, run, startContainer, tempDir, uniqueName } from "../helpers/env.ts";
import { freePort, type SshServer, serversAvailable, startSshd } from "../helpers/servers.ts";
import { hasTmux, terminal } from "../helpers/terminal.ts";

/**
 * `setup --backend sftp` by flags (no terminal) against OpenSSH's sshd on 127.0.0.1: the backend's
 * keys are flags named from its schema; a fresh host gets its repository and a first good backup; a
 * missing key is a usage error naming its flag. Then the wizard in a real terminal (tmux): sftp chosen,
 * its questions answered, a wrong port refused by the connection test with the reason, the right one.
 */
const compiled = cliArgv()[0] === BINARY;
/** A prompt draws before it reads the keyboard: keys sent in between would be lost. */
const SETTLE_MS = 400;
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
  test.skipIf(!ready || !hasTmux)(
    "the wizard: sftp chosen, a wrong port fails the connection test with its reason, the right one passes, a backup works",
    async () => {
      const d = join(dir.path, "wiz");
      const conf = join(d, "etc", "config.toml");
      const remote = join(d, "remote", "repo");
      const wrongPort = String(await freePort());
      const args = [
        ...["setup", "--config", conf, "--password-file", join(d, "pw"), "--no-schedule"],
        ...["--state-dir", join(d, "state"), "--cache-dir", join(d, "cache")],
        ...["--lock-file", join(d, "kd.lock"), "--restore-dir", join(d, "stacks")],
      ];
      const t = terminal(uniqueName("kdtsetupwiz"), { width: 200, height: 200 });
      // The question being asked: clack marks the one active prompt with ◆ (answered ones get ◇).
      const active = async (label: string) => {
        for (const end = Date.now() + 60_000; Date.now() < end; await Bun.sleep(200)) {
          const s = await t.screen();
          if (s.split("\n").some((l) => l.includes("◆") && l.includes(label))) {
            await Bun.sleep(SETTLE_MS);
            return s;
          }
        }
        throw new Error(`"${label}" was never asked:\n${await t.screen()}`);
      };
      /** Replace the pre-filled text of the active question with `text`, then Enter. */
      const type = async (label: string, text: string) => {
        await active(label);
        await t.keys(...Array(200).fill("BSpace"));
        if (text) await t.keys("-l", text);
        await t.keys("Enter");
      };
      const answers = (port: string) => [
        ["sftp host", "127.0.0.1"],
        ["sftp port", port],
        ["sftp user", ssh?.user ?? ""],
        ["sftp path", remote],
        ["sftp key_file", ssh?.keyFile ?? ""],
        ["sftp known_hosts_file", ssh?.knownHosts ?? ""],
        ["sftp sftp_password_file", ""],
        ["sftp sftp_password_env", ""],
      ];
      try {
        await t.start(`env -u CI NO_COLOR=1 ${BINARY} ${args.map((x) => `'${x}'`).join(" ")}`);
        await active("Where backups go");
        await t.keys("Down", "Enter"); // filesystem, then sftp
        for (const [label, text] of answers(wrongPort)) await type(label ?? "", text ?? "");
        const failed = await t.waitFor(`127.0.0.1:${wrongPort}: ECONNREFUSED`, 60_000);
        expect(failed).toContain("connection test failed");
        expect(existsSync(remote)).toBe(false);
        // Asked again, the last answers pre-filled: only the port changes.
        for (const [label, text] of answers(String(ssh?.port))) await type(label ?? "", text ?? "");
        await t.waitFor("connection test passed", 60_000);
        await active("Repository password");
        await t.keys("Enter"); // generate
        await active("DR bundle");
        await t.keys("Enter"); // none: the password is shown once
        await active("Keep latest");
        await t.keys("Enter");
        await active("Notify on failure");
        await t.keys("Enter");
        await active("and create the repository?");
        await t.keys("Enter");
        const end = await t.waitFor("EXIT=", 180_000);
        expect(end).toContain("EXIT=0");
      } finally {
        await t.kill();
      }
      const text = readFileSync(conf, "utf8");
      expect(text).toContain('backend = "sftp"');
      expect(text).toContain(`port = ${ssh?.port}`);
      expect(text).toContain(`known_hosts_file = "${ssh?.knownHosts}"`);
      expect(existsSync(join(remote, "kopia.repository.f"))).toBe(true);
      const b = await runCli(["backup", "--config", conf, "--unit", name]);
      expect(b.exitCode).toBe(0);
    },
    300_000,
  );
});

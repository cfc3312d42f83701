import { expect, test } from "bun:test";
import { chmodSync, existsSync } from "node:fs";
import { join } from "node:path";
import { type SshServer, startSshd } from "../helpers/servers.ts";
import { freshHostDoctor } from "./repo-doctor.ts";
import { sshLocations } from "./repo-ssh.ts";
import { repositorySuite } from "./repo-suite.ts";

let ssh: SshServer;
let root = "";
const base = (path: string, knownHosts = ssh.knownHosts) =>
  `backend = "sftp"\nhost = "127.0.0.1"\nport = ${ssh.port}\nuser = "${ssh.user}"\npath = "${path}"\n` +
  `known_hosts_file = "${knownHosts}"`;
const key = () => `\nkey_file = "${ssh.keyFile}"`;

// OpenSSH's sshd on 127.0.0.1 and a free port, key auth, the host key pinned in known_hosts.
repositorySuite({
  title: "repository on SFTP (OpenSSH sshd on loopback)",
  async start(dir) {
    ssh = await startSshd(join(dir, "sshd"));
    root = join(dir, "remote");
    return sshLocations(ssh, root, (path) => base(path));
  },
  extras: [
    (h) =>
      test("a changed host key is refused: exit 10 naming the pinned key, nothing connected or stopped", async () => {
        const cfg = h.writeConfig("wrongkey", `${base(join(root, "repo"), ssh.wrongKnownHosts)}${key()}`);
        const r = await h.cli(cfg, "backup", "--unit", h.container);
        expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 10 });
        expect(r.stderr).toContain("host key that is not the pinned one");
        expect(existsSync(join(h.dir, "wrongkey", "state", "kopia", "repository.config"))).toBe(false);
        await h.untouched();
      }, 120_000),
    (h) =>
      test("doctor on a fresh host (no kopia connection yet) connects to look: a changed host key fails as the backup would, the pinned one opens; nothing kept", async () => {
        const changed = h.writeConfig(
          "doctor-wrongkey",
          `${base(join(root, "repo"), ssh.wrongKnownHosts)}${key()}`,
        );
        const wrong = await freshHostDoctor(h, changed);
        expect(wrong).toMatchObject({ id: "repository", status: "fail" });
        expect(wrong.detail).toBe(
          `the SFTP server at sftp://${ssh.user}@127.0.0.1:${ssh.port}${join(root, "repo")} presented a host key that is not the pinned one`,
        );
        expect(wrong.hint).toContain("update repository.known_hosts_file");
        const pinned = h.writeConfig("doctor-fresh", `${base(join(root, "repo"))}${key()}`);
        const ok = await freshHostDoctor(h, pinned);
        expect(ok).toMatchObject({ id: "repository", status: "ok" });
        expect(ok.detail).toContain("opens with the configured credentials and password");
        // The wrong repository password is found too, as the backup says it.
        const pw = h.writeConfig("doctor-wrongpw", `${base(join(root, "repo"))}${key()}`, {
          password: "nope",
        });
        const refused = await freshHostDoctor(h, pw);
        expect(refused).toMatchObject({ status: "fail", detail: "the repository password is wrong" });
      }, 180_000),
    (h) =>
      test("a key with a passphrase (kopia cannot use one): exit 2 naming key_file, nothing written or stopped", async () => {
        const locked = join(h.dir, "locked_ed25519");
        const made = Bun.spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "kdt-phrase", "-f", locked]);
        expect(made.exitCode).toBe(0);
        chmodSync(locked, 0o600);
        const cfg = h.writeConfig("lockedkey", `${base(join(root, "locked"))}\nkey_file = "${locked}"`);
        for (const args of [
          ["repo", "init"],
          ["backup", "--unit", h.container],
        ]) {
          const r = await h.cli(cfg, ...args);
          expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 2 });
          expect(r.stderr).toContain(`repository.key_file ${locked} is protected by a passphrase`);
          expect(r.stderr).not.toContain("PRIVATE KEY");
        }
        expect(existsSync(join(root, "locked"))).toBe(false);
        expect(existsSync(join(h.dir, "lockedkey", "state", "kopia", "repository.config"))).toBe(false);
        await h.untouched();
      }, 120_000),
  ],
});

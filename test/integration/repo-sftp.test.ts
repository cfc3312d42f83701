import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type SshServer, startSshd } from "../helpers/servers.ts";
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
  ],
});

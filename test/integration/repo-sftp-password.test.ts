import { expect, test } from "bun:test";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { addPasswordUser, type PasswordUser, type SshServer, startSshd } from "../helpers/servers.ts";
import { freshHostDoctor } from "./repo-doctor.ts";
import { repositorySuite } from "./repo-suite.ts";

let ssh: SshServer;
let user: PasswordUser;
let root = "";
let passwordFile = "";
const base = (path: string, knownHosts = ssh.knownHosts) =>
  `backend = "sftp"\nhost = "127.0.0.1"\nport = ${ssh.port}\nuser = "${user.name}"\npath = "${path}"\n` +
  `known_hosts_file = "${knownHosts}"`;
const withPassword = (file = passwordFile) => `\nsftp_password_file = "${file}"`;

/** A directory the SFTP user owns (the test's own temp dirs above it only traversable). */
function ownedDir(path: string): string {
  mkdirSync(path, { recursive: true });
  chownSync(path, Number(Bun.spawnSync(["id", "-u", user.name]).stdout.toString().trim()), 0);
  return path;
}

// OpenSSH's sshd on loopback with password auth for a user of its own; kopi-docka logs in through
// kopia's --external ssh: `sshpass -f <the 0600 password file> ssh …`, the password never in argv.
repositorySuite({
  title: "repository on SFTP with a password (sshpass -f and OpenSSH ssh, sshd on loopback)",
  async start(dir) {
    mkdirSync(dir, { recursive: true });
    // the SFTP user must reach its directory under the test's private (0700) temp dir
    chmodSync(dirname(dir), 0o711);
    chmodSync(dir, 0o711);
    root = join(dir, "remote");
    user = await addPasswordUser(root);
    ssh = await startSshd(join(dir, "sshd"), { passwords: true });
    ownedDir(root);
    passwordFile = join(dir, "sftp.password");
    writeFileSync(passwordFile, `${user.password}\n`, { mode: 0o600 });
    return {
      toml: `${base(join(root, "repo"))}${withPassword()}`,
      secrets: [user.password],
      withoutCredential: { toml: base(join(root, "repo")), key: "repository.sftp_password_file" },
      async foreign() {
        const theirs = ownedDir(join(root, "theirs"));
        writeFileSync(join(theirs, "notes.txt"), "not kopia\n");
        return {
          toml: `${base(theirs)}${withPassword()}`,
          unchanged: async () => readdirSync(theirs).join(",") === "notes.txt",
        };
      },
      down: () => ssh.stop(),
      async stop() {
        await ssh.stop();
        await user.remove();
      },
    };
  },
  extras: [
    (h) =>
      test("a wrong SFTP password: exit 12 naming sftp_password_file, nothing written there, nothing stopped", async () => {
        const wrong = join(h.dir, "wrong.password");
        writeFileSync(wrong, "not-the-password\n", { mode: 0o600 });
        const fresh = ownedDir(join(root, "fresh"));
        for (const [name, path] of [
          ["wrongpw-new", fresh],
          ["wrongpw-existing", join(root, "repo")],
        ] as const) {
          const cfg = h.writeConfig(name, `${base(path)}${withPassword(wrong)}`);
          for (const args of [
            ["repo", "init"],
            ["backup", "--unit", h.container],
          ]) {
            const r = await h.cli(cfg, ...args);
            expect({ args, exit: r.exitCode }).toEqual({ args, exit: 12 });
            expect(r.stderr).toContain("repository.sftp_password_file");
          }
          expect(existsSync(join(h.dir, name, "state", "kopia", "repository.config"))).toBe(false);
        }
        expect(readdirSync(fresh)).toEqual([]);
        await h.untouched();
      }, 180_000),
    (h) =>
      test("doctor on a fresh host (no kopia connection yet): a wrong SFTP password fails naming sftp_password_file, the right one opens; nothing kept", async () => {
        const wrongFile = join(h.dir, "doctor-wrong.password");
        writeFileSync(wrongFile, "not-the-password\n", { mode: 0o600 });
        const wrong = h.writeConfig(
          "doctor-wrongpw",
          `${base(join(root, "repo"))}${withPassword(wrongFile)}`,
        );
        const refused = await freshHostDoctor(h, wrong, [user.password]);
        expect(refused).toMatchObject({ id: "repository", status: "fail" });
        expect(refused.detail).toMatch(/^the storage at sftp:\/\/.* refused the credentials$/);
        expect(refused.hint).toContain("repository.sftp_password_file");
        const right = h.writeConfig("doctor-fresh", `${base(join(root, "repo"))}${withPassword()}`);
        const ok = await freshHostDoctor(h, right, [user.password]);
        expect(ok).toMatchObject({ id: "repository", status: "ok" });
      }, 180_000),
    (h) =>
      test("a changed host key is refused: exit 10 naming the pinned key, nothing connected or stopped", async () => {
        const cfg = h.writeConfig(
          "pw-wrongkey",
          `${base(join(root, "repo"), ssh.wrongKnownHosts)}${withPassword()}`,
        );
        const r = await h.cli(cfg, "backup", "--unit", h.container);
        expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 10 });
        expect(r.stderr).toContain("host key that is not the pinned one");
        expect(existsSync(join(h.dir, "pw-wrongkey", "state", "kopia", "repository.config"))).toBe(false);
        await h.untouched();
      }, 120_000),
    (h) =>
      test("reconnects from nothing (an empty state dir) with the password file alone; only its path is saved", async () => {
        const cfg = h.writeConfig("pw-fresh-host", `${base(join(root, "repo"))}${withPassword()}`);
        const r = await h.cli(cfg, "repo", "connect");
        expect({ exit: r.exitCode, stderr: r.stderr }).toMatchObject({ exit: 0 });
        const status = JSON.parse((await h.cli(cfg, "repo", "status", "--json")).stdout);
        expect(status).toMatchObject({ connected: true });
        expect(status.snapshots).toBeGreaterThan(0);
        // kopia's saved connection holds the password file's path, never the password
        const saved = readFileSync(
          join(h.dir, "pw-fresh-host", "state", "kopia", "repository.config"),
          "utf8",
        );
        expect(saved).toContain(`"sshCommand": "sshpass"`);
        expect(saved).toContain(`-f ${passwordFile} ssh -p ${ssh.port}`);
        expect(saved).not.toContain(user.password);
      }, 120_000),
  ],
});

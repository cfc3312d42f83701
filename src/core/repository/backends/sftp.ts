import { z } from "zod";
import type { RepositoryConfig } from "../../../config/schema.ts";
import { AppError } from "../../errors.ts";
import type { Backend } from "../backend.ts";
import { judgeListing, storageMatches, throttleArgs } from "../backend.ts";
import { absolutePath, nonEmpty, secretKeys } from "../fields.ts";

export const sftpSchema = z.strictObject({
  backend: z.literal("sftp"),
  host: nonEmpty,
  port: z.number().int().min(1).max(65_535).default(22),
  user: nonEmpty,
  /** Directory on the server. */
  path: nonEmpty,
  /** Private key (mode 0600): how kopi-docka logs in (see secrets below for why never a password). */
  key_file: absolutePath.optional(),
  /** known_hosts holding the server's host key: the key is pinned, a changed one is refused. */
  known_hosts_file: absolutePath,
  /** Accepted only to refuse them clearly: kopia would need the password on its command line. */
  ...secretKeys("sftp_password"),
});

type Sftp = Extract<RepositoryConfig, { backend: "sftp" }>;

export const sftp: Backend<Sftp> = {
  canCreate: true,
  storageArgs: (r) => [
    "sftp",
    "--host",
    r.host,
    "--port",
    String(r.port),
    "--username",
    r.user,
    "--path",
    r.path,
    "--known-hosts",
    r.known_hosts_file,
    ...(r.key_file ? ["--keyfile", r.key_file] : []),
    ...throttleArgs(r),
  ],
  // kopia v0.23.1 takes an SFTP password only as --sftp-password (no variable, no args file), where
  // `ps` shows it to every user: refused, with the way out named.
  secrets: (r) => {
    if (r.sftp_password_file || r.sftp_password_env || !r.key_file)
      throw new AppError("config", "the sftp backend needs repository.key_file (key authentication)", {
        hint: "kopia takes an SFTP password only on its command line, where any user could read it: use a key (ssh-keygen -t ed25519) and set repository.key_file",
      });
    return [];
  },
  endpoint: (r) => ({ host: r.host, port: r.port }),
  tools: (r) => (r.key_file ? ["sftp"] : []),
  // OpenSSH's sftp in batch mode, with the same key and pinned host key kopia uses. Password auth
  // cannot run unattended here, so without a key file kopia's own check is all there is.
  async probeRemote(r, io) {
    if (!r.key_file) return "unknown";
    const argv = ["sftp", "-b", "-", "-P", String(r.port), "-i", r.key_file];
    const opts = ["BatchMode=yes", "StrictHostKeyChecking=yes", `UserKnownHostsFile=${r.known_hosts_file}`];
    for (const o of opts) argv.push("-o", o);
    const res = await io.runner.run([...argv, `${r.user}@${r.host}`], {
      stdin: `ls -1a "${r.path.replace(/"/g, '\\"')}"\n`,
      check: false,
      timeoutMs: 60_000,
    });
    if (res.exitCode !== 0) return /not found|no such file/i.test(res.stderr) ? "empty" : "unknown";
    const names = res.stdout.split("\n").filter((l) => l && !l.startsWith("sftp>"));
    return judgeListing(names);
  },
  describe: (r) => `sftp://${r.user}@${r.host}:${r.port}${r.path.startsWith("/") ? "" : "/"}${r.path}`,
  matches: (saved, r) =>
    storageMatches(saved, "sftp", { host: r.host, port: r.port, username: r.user, path: r.path }, r),
};

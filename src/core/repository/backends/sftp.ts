import { z } from "zod";
import type { RepositoryConfig } from "../../../config/schema.ts";
import { AppError } from "../../errors.ts";
import type { Backend } from "../backend.ts";
import { judgeListing, storageMatches, throttleArgs } from "../backend.ts";
import { absolutePath, nonEmpty, secretKeys } from "../fields.ts";
import { refusePassphraseKey } from "./ssh-key.ts";

export const sftpSchema = z.strictObject({
  backend: z.literal("sftp"),
  host: nonEmpty,
  port: z.number().int().min(1).max(65_535).default(22),
  user: nonEmpty,
  /** Directory on the server. */
  path: nonEmpty,
  /** Private key (mode 0600): key authentication, kopia's own SSH client. */
  key_file: absolutePath.optional(),
  /** known_hosts holding the server's host key: the key is pinned, a changed one is refused. */
  known_hosts_file: absolutePath,
  /** Password authentication instead of a key: a file only (see `sshArgs`); `_env` is refused. */
  ...secretKeys("sftp_password"),
});

type Sftp = Extract<RepositoryConfig, { backend: "sftp" }>;

/** ssh options both the password route and the probe use: the pinned key only, one password try. */
const passwordSshOptions = (r: Sftp) => [
  ...["-F", "none", "-o", `UserKnownHostsFile=${r.known_hosts_file}`, "-o", "GlobalKnownHostsFile=/dev/null"],
  ...["-o", "StrictHostKeyChecking=yes", "-o", "PubkeyAuthentication=no", "-o", "ConnectTimeout=30"],
  ...["-o", "PreferredAuthentications=password,keyboard-interactive", "-o", "NumberOfPasswordPrompts=1"],
];

/**
 * kopia v0.23.1 takes an SFTP password for its own client only as `--sftp-password` (argv, where `ps`
 * shows it). Its `--external` mode runs `<ssh-command> <ssh-args split on spaces> user@host -s sftp`
 * instead: here `sshpass -f FILE ssh …`, so sshpass reads the password from the 0600 file and types it
 * into ssh's prompt, and only the file's path is in argv and in kopia's saved connection. The port and
 * the pinned known_hosts go to ssh (kopia does not pass them on). kopia splits the arguments on spaces:
 * a path with a space cannot be passed, so it is refused in `secrets`.
 */
function sshArgs(r: Sftp): string {
  return ["-f", r.sftp_password_file ?? "", "ssh", "-p", String(r.port), ...passwordSshOptions(r)].join(" ");
}

/** `sftp -b -` logged in the way kopia will: key, or password through sshpass (`-b` sets BatchMode,
 *  which forbids a password; ssh keeps the first value of an option, so `BatchMode=no` goes first). */
function probeArgv(r: Sftp): string[] {
  const port = ["-P", String(r.port)];
  if (r.sftp_password_file)
    return [
      "sshpass",
      "-f",
      r.sftp_password_file,
      "sftp",
      ...port,
      ...passwordSshOptions(r),
      "-o",
      "BatchMode=no",
      "-b",
      "-",
    ];
  const opts = ["BatchMode=yes", "StrictHostKeyChecking=yes", `UserKnownHostsFile=${r.known_hosts_file}`];
  return ["sftp", "-b", "-", ...port, "-i", r.key_file ?? "", ...opts.flatMap((o) => ["-o", o])];
}

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
    ...(r.sftp_password_file
      ? ["--external", "--ssh-command", "sshpass", `--ssh-args=${sshArgs(r)}`]
      : ["--known-hosts", r.known_hosts_file, ...(r.key_file ? ["--keyfile", r.key_file] : [])]),
    ...throttleArgs(r),
  ],
  // The key is kopia's own client's; the password never reaches kopia (sshpass reads the file, see
  // sshArgs), so no secret goes into kopia's env: the file is only checked (0600) by resolveSecrets.
  secrets: (r) => {
    if (r.sftp_password_env)
      throw new AppError(
        "config",
        "repository.sftp_password_env is not supported: use repository.sftp_password_file",
        {
          hint: "every kopia run reads the SFTP password again (through sshpass -f), so it must be in a file: put it in a file of mode 0600 and set repository.sftp_password_file",
        },
      );
    if (r.key_file && r.sftp_password_file)
      throw new AppError(
        "config",
        "set one of repository.key_file and repository.sftp_password_file, not both",
        {
          hint: "a key is the better choice; remove sftp_password_file to use it",
        },
      );
    if (!r.key_file && !r.sftp_password_file)
      throw new AppError(
        "config",
        "the sftp backend needs repository.key_file or repository.sftp_password_file",
        {
          hint: "use a key (ssh-keygen -t ed25519) and set repository.key_file, or put the password in a file of mode 0600 and set repository.sftp_password_file",
        },
      );
    if (r.key_file) refusePassphraseKey(r.key_file);
    for (const key of ["sftp_password_file", "known_hosts_file"] as const) {
      const path = r[key];
      if (r.sftp_password_file && path && /\s/.test(path))
        throw new AppError("config", `repository.${key}: ${path} has a space in it`, {
          hint: "kopia splits the ssh arguments of a password login on spaces: move the file to a path without spaces",
        });
    }
    return [];
  },
  endpoint: (r) => ({ host: r.host, port: r.port }),
  tools: (r) => (r.sftp_password_file ? ["sshpass", "ssh", "sftp"] : r.key_file ? ["sftp"] : []),
  // OpenSSH's sftp in batch mode, with the same key (or password) and pinned host key kopia uses.
  async probeRemote(r, io) {
    if (!r.key_file && !r.sftp_password_file) return "unknown";
    const res = await io.runner.run([...probeArgv(r), `${r.user}@${r.host}`], {
      stdin: `ls -1a "${r.path.replace(/"/g, '\\"')}"\n`,
      check: false,
      timeoutMs: 60_000,
    });
    if (res.exitCode !== 0) return /not found|no such file/i.test(res.stderr) ? "empty" : "unknown";
    const names = res.stdout.split("\n").filter((l) => l && !l.startsWith("sftp>"));
    return judgeListing(names);
  },
  describe: (r) => `sftp://${r.user}@${r.host}:${r.port}${r.path.startsWith("/") ? "" : "/"}${r.path}`,
  // A switch between key and password (or a moved password file) is a new connection.
  matches: (saved, r) =>
    storageMatches(
      saved,
      "sftp",
      {
        host: r.host,
        port: r.port,
        username: r.user,
        path: r.path,
        externalSSH: r.sftp_password_file ? true : undefined,
        sshArguments: r.sftp_password_file ? sshArgs(r) : undefined,
      },
      r,
    ),
};

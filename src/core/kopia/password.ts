import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { errnoCode } from "../caught.ts";
import { fsyncDir, nodeFs, type SyncFs, writeAndSync } from "../durable.ts";
import { AppError } from "../errors.ts";

/**
 * Reads the repository password file. The password never leaves memory except in kopia's env. A file
 * missing, unreadable or empty is the config's problem (exit 2, like any `*_file` secret and like the
 * connect's check), not the repository's: nothing was asked of the repository yet.
 */
export function readPassword(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = errnoCode(e);
    throw new AppError(
      "config",
      code === "ENOENT"
        ? `the password file ${file} does not exist`
        : `cannot read the password file ${file} (${code})`,
      {
        hint:
          code === "EACCES" ? "run as root" : "restore it from your copy, or set repository.password_file",
      },
    );
  }
  // kopia trims the password too; a trailing newline from an editor must not change it.
  const password = text.trim();
  if (!password)
    throw new AppError("config", `the password file ${file} is empty`, {
      hint: "put the repository's password in it (mode 0600); a new password cannot open old backups",
    });
  return password;
}

/** Mode bits other users must not have on a password file. */
export function passwordFileTooOpen(file: string): boolean {
  return (statSync(file).mode & 0o077) !== 0;
}

/**
 * Creates a new random password file (0600, parent 0700) unless one exists. O_EXCL makes two racing
 * first runs agree on one password. Returns true when it created the file.
 */
export function ensurePasswordFile(file: string, fs: SyncFs = nodeFs): boolean {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = fs.openSync(file, "wx", 0o600);
  } catch (e) {
    if (errnoCode(e) === "EEXIST") return false;
    throw e;
  }
  // On disk (file and its name) before `repository create` uses it: a crash right after the create
  // must never leave a repository whose only password was lost with the page cache.
  writeAndSync(fd, `${randomBytes(32).toString("base64url")}\n`, fs);
  fsyncDir(dirname(file), fs);
  return true;
}

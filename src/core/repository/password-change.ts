import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { errorMessage } from "../caught.ts";
import { fsyncDir } from "../durable.ts";
import { AppError } from "../errors.ts";
import { passwordFileTooOpen } from "../kopia/password.ts";
import { type HostLockContext, withHostLock } from "../lock/host-lock.ts";
import { openRepository } from "./open.ts";
import { type ProbeDeps, passwordTaken } from "./password-probe.ts";
import { pendingPasswordFile } from "./saved.ts";

/**
 * `repo change-password`: the new password is first written next to the password file (0600,
 * fsync'd), then kopia changes it, then the file is swapped in with one rename. When kopia fails, the
 * repository is asked which password it takes (`password-probe.ts`): the old one, `<file>.new` goes;
 * the new one (kopia failed after writing it), the change is finished; neither, both files stay. A
 * failure of the rename puts kopia's back; only a kill between the two leaves `<file>.new` holding
 * the password kopia now wants (exit 12 says so).
 */
export function changePassword(
  d: ProbeDeps & HostLockContext,
  o: { newPasswordFile?: string },
): Promise<{ file: string }> {
  // Under the host lock: a backup running meanwhile would lose the password it read at its start.
  return withHostLock(d, "repo change-password", {}, () => change(d, o));
}

async function change(d: ProbeDeps, o: { newPasswordFile?: string }): Promise<{ file: string }> {
  const file = d.config.repository.password_file;
  if (d.config.repository.backend === "server")
    throw new AppError("usage", "a repository server's users have their passwords on the server", {
      hint: "change it there: `kopia server user set kopi-docka@<hostname> --ask-password`, then update repository.password_file",
    });
  const pending = pendingPasswordFile(file);
  if (existsSync(pending))
    throw new AppError("repository", `${pending} exists: an earlier password change did not finish`, {
      hint: `if the repository opens with the password in ${pending}, move it over ${file}; otherwise remove it`,
    });
  const next = o.newPasswordFile ? readNewPassword(o.newPasswordFile) : randomBytes(32).toString("base64url");
  await openRepository(d, "connect");
  const old = d.kopia.options.password();
  if (next === old) throw new AppError("usage", "the new password is the current one");
  writeDurably(pending, `${next}\n`);
  // The pending file's name is durable before kopia changes the repository: after a power loss the
  // new password is on disk, as the message about an unfinished change says.
  fsyncDir(dirname(pending));
  try {
    await d.kopia.run(["repository", "change-password"], {
      env: { KOPIA_NEW_PASSWORD: next },
      timeoutMs: 300_000,
    });
  } catch (e) {
    const taken = await passwordTaken(d, old, next);
    if (taken === "old") {
      rmSync(pending, { force: true });
      throw e;
    }
    if (taken === "unknown")
      throw new AppError(
        "repository",
        `the password change failed and the repository opens with neither password now; ${pending} keeps the new one, ${file} the old one`,
        {
          hint: `keep both files; once the storage answers, move ${pending} over ${file} if the repository opens with it (kopi-docka repo status), else remove ${pending}`,
          cause: e,
        },
      );
    // kopia failed after the new key had reached the repository: finish the change. Its cached format
    // blobs (old key) go, as kopia's own change removes them: they would refuse the new password.
    for (const blob of ["kopia.repository", "kopia.blobcfg"])
      rmSync(join(d.kopia.options.cacheDir, blob), { force: true });
    d.log.warn(
      `kopia reported a failure after the new password was in place (${errorMessage(e)}); finishing the change`,
    );
  }
  try {
    renameSync(pending, file);
  } catch (e) {
    // kopia has the new password, the file the old one: put kopia's back so both agree again.
    await d.kopia.run(["repository", "change-password"], {
      env: { KOPIA_PASSWORD: next, KOPIA_NEW_PASSWORD: old },
      timeoutMs: 300_000,
    });
    rmSync(pending, { force: true });
    throw new AppError("repository", `could not replace ${file}; the password was not changed`, { cause: e });
  }
  // The rename made durable. kopia and the file agree already: a failure here changes nothing.
  try {
    fsyncDir(dirname(file));
  } catch {
    // the rename reaches the disk with the next journal commit
  }
  return { file };
}

/**
 * What still knows the old password after a change: each replica opens with it until its next sync
 * copies kopia's new format blob (`sync-to` updates newer blobs), and a DR bundle exported before
 * holds it. Said after every change, so the person closes both gaps before the primary can be lost.
 */
export function afterPasswordChange(replicas: readonly { name: string }[]): string[] {
  return [
    ...(replicas.length > 0
      ? [
          `replicas ${replicas.map((r) => r.name).join(", ")} open only with the old password until they are synced: run \`kopi-docka repo sync\` now`,
        ]
      : []),
    "a DR bundle exported before holds the old password: run `kopi-docka dr export` again",
  ];
}

function readNewPassword(path: string): string {
  if (!existsSync(path)) throw new AppError("usage", `--new-password-file ${path} does not exist`);
  if (passwordFileTooOpen(path))
    throw new AppError("usage", `--new-password-file ${path} is readable by other users`, {
      hint: `chmod 600 ${path}`,
    });
  const v = readFileSync(path, "utf8").trim();
  if (v.length < 8)
    throw new AppError("usage", `--new-password-file ${path}: the password is shorter than 8 characters`);
  return v;
}

function writeDurably(path: string, text: string): void {
  const fd = openSync(path, "wx", 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

import { existsSync, mkdirSync, rmSync } from "node:fs";
import type { RepositoryConfig } from "../../config/schema.ts";
import { AppError, ProcessError } from "../errors.ts";
import type { Kopia } from "../kopia/kopia.ts";
import type { Logger } from "../log.ts";
import { classifyStorageError, foreignData } from "./problems.ts";

/** The two kopia calls that make a connection, each told in terms of the configured location. */

export function missingPassword(repo: RepositoryConfig, where: string): AppError {
  return new AppError("config", `${repo.password_file} (repository.password_file) is missing`, {
    hint: `put the password of the repository at ${where} in that file (mode 0600); a new password cannot open old backups`,
  });
}

/** true: connected; false: the location holds no repository. Anything else is thrown, classified. */
export async function connectTo(
  kopia: Kopia,
  repo: RepositoryConfig,
  argv: string[],
  env: Record<string, string>,
  where: string,
  o: { timeoutMs?: number } = {},
): Promise<boolean> {
  if (!existsSync(repo.password_file)) throw missingPassword(repo, where);
  try {
    await kopia.connect(argv, { env, timeoutMs: o.timeoutMs });
    return true;
  } catch (e) {
    if (e instanceof AppError && e.code === "repository" && /no kopia repository exists/.test(e.message))
      return false;
    throw classifyStorageError(e, repo, where);
  }
}

export async function createAt(
  kopia: Kopia,
  log: Logger,
  repo: RepositoryConfig,
  argv: string[],
  env: Record<string, string>,
  where: string,
): Promise<void> {
  const madeDir = repo.backend === "filesystem" && !existsSync(repo.path);
  if (madeDir) mkdirSync(repo.path, { recursive: true, mode: 0o700 });
  log.info(`creating a kopia repository at ${where}`);
  try {
    await kopia.create(argv, { env });
  } catch (e) {
    // Nothing of ours may stay behind: the location is as it was (the caller removes the password file).
    if (madeDir && repo.backend === "filesystem") rmSync(repo.path, { recursive: true, force: true });
    if (e instanceof ProcessError && /found existing data in storage location/.test(e.stderrTail))
      throw foreignData(where);
    throw classifyStorageError(e, repo, where);
  }
}

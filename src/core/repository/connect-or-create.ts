import { existsSync, mkdirSync, rmSync } from "node:fs";
import type { RepositoryConfig } from "../../config/schema.ts";
import { errorMessage } from "../caught.ts";
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
  await scheduleFullMaintenance(kopia, log, env);
}

/**
 * kopia's full maintenance interval on a repository kopi-docka creates (kopia's own is 24 h), and its
 * first full cycle one interval away (a new repository has nothing to collect). A nightly backup runs
 * full maintenance when it is due (`backup/maintenance.ts`), and each time first checks the whole
 * repository (`guardFullMaintenance`: every snapshot read, no file data) under the host lock, then
 * kopia walks every snapshot and may rewrite half-empty packs (downloads and uploads on a paid
 * bucket). Weekly keeps that to one night in seven; the space of expired points still comes back
 * within two or three cycles (kopia's safety margins: contents unused for a day, two GC cycles). A
 * week less 8 h: the start of a nightly run drifts, and a 168 h interval would then wait for the
 * eighth night. A repository kopi-docka did not create keeps the interval its creator chose.
 */
export const FULL_MAINTENANCE_INTERVAL = "160h";

async function scheduleFullMaintenance(kopia: Kopia, log: Logger, env: Record<string, string>) {
  const interval = FULL_MAINTENANCE_INTERVAL;
  try {
    await kopia.run(["maintenance", "set", `--full-interval=${interval}`, `--pause-full=${interval}`], {
      env,
      timeoutMs: 300_000,
    });
  } catch (e) {
    log.warn(
      `full maintenance keeps kopia's 24 h interval (${errorMessage(e)}); to set it: \`kopi-docka kopia -- maintenance set --full-interval=${interval}\``,
    );
  }
}

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { RepositoryConfig } from "../../config/schema.ts";
import { AppError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { type Kopia, storageArgs } from "./kopia.ts";
import { ensurePasswordFile } from "./password.ts";

/** Files kopia writes at the root of a filesystem repository. */
const FILESYSTEM_REPO_MARKERS = ["kopia.repository.f", "kopia.repository"];

export function filesystemRepositoryExists(path: string): boolean {
  return FILESYSTEM_REPO_MARKERS.some((m) => existsSync(join(path, m)));
}

/**
 * Makes sure kopi-docka's own kopia config is connected to the configured repository, creating the
 * repository (and its password file) on first use. A connection to another location, or under
 * another identity, is replaced: a changed config must never keep writing to the old repository.
 */
export async function ensureRepository(
  kopia: Kopia,
  repo: RepositoryConfig,
  log: Logger,
): Promise<{ created: boolean }> {
  const status = await kopia.status();
  if (status && matchesConfig(status, repo, kopia.options)) return { created: false };
  if (status) {
    log.info("the repository in the config changed; reconnecting");
    await kopia.disconnect();
  }
  const exists = repo.backend === "filesystem" ? filesystemRepositoryExists(repo.path) : true;
  if (!exists) {
    if (ensurePasswordFile(repo.password_file))
      log.info(`generated a new repository password in ${repo.password_file}`);
    mkdirSync(repo.path, { recursive: true, mode: 0o700 });
    log.info(`creating a kopia repository at ${repo.path}`);
    await kopia.create(storageArgs(repo));
    return { created: true };
  }
  if (!existsSync(repo.password_file)) {
    throw new AppError(
      "repository",
      `a repository exists at ${describe(repo)} but ${repo.password_file} is missing`,
      {
        hint: "put the repository's password in that file (mode 0600); a new password cannot open old backups",
      },
    );
  }
  await kopia.connect(storageArgs(repo));
  return { created: false };
}

function describe(repo: RepositoryConfig): string {
  return repo.backend === "filesystem" ? repo.path : repo.backend;
}

function matchesConfig(
  status: Awaited<ReturnType<Kopia["status"]>>,
  repo: RepositoryConfig,
  identity: { hostname: string; username: string },
): boolean {
  if (!status) return false;
  const client = status.clientOptions;
  if (client && (client.hostname !== identity.hostname || client.username !== identity.username))
    return false;
  if (status.storage?.type !== repo.backend) return false;
  if (repo.backend === "filesystem") {
    const config = status.storage.config as { path?: string } | undefined;
    return config?.path === repo.path;
  }
  return true;
}

/**
 * Connects to the configured repository, never creating one: reading from (or a person's command on)
 * a mistyped path must say so, not start an empty repository there.
 */
export async function connectExisting(kopia: Kopia, repo: RepositoryConfig, log: Logger): Promise<void> {
  if (repo.backend === "filesystem" && !filesystemRepositoryExists(repo.path)) {
    throw new AppError("repository", `there is no kopia repository at ${repo.path}`, {
      hint: "check [repository] path in the config",
    });
  }
  await ensureRepository(kopia, repo, log);
}

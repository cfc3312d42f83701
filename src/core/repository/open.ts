import { existsSync, mkdirSync, rmSync } from "node:fs";
import type { ResolvedPaths } from "../../config/resolve.ts";
import type { Config, RepositoryConfig } from "../../config/schema.ts";
import { AppError, ProcessError } from "../errors.ts";
import type { Kopia } from "../kopia/kopia.ts";
import { ensurePasswordFile } from "../kopia/password.ts";
import type { Logger } from "../log.ts";
import type { Runner } from "../process/runner.ts";
import type { Backend, SavedConnection } from "./backend.ts";
import { toolPackage } from "./backend.ts";
import { backendOf } from "./backends/index.ts";
import { classifyStorageError, foreignData, missingRepository } from "./problems.ts";
import { checkReachable } from "./reach.ts";
import { describeSaved, pendingPasswordFile, readMarker, readSavedConnection, writeMarker } from "./saved.ts";
import { resolveSecrets } from "./secrets.ts";

export interface OpenDeps {
  kopia: Kopia;
  runner: Runner;
  config: Pick<Config, "repository">;
  paths: Pick<ResolvedPaths, "stateDir" | "kopiaConfigFile">;
  log: Logger;
}

/**
 * use: what backup does: connect, or create a filesystem repository on this host's very first use.
 * connect: never create (restore, `repo connect`). init: create when there is none (`repo init`).
 */
export type OpenMode = "use" | "connect" | "init";

export interface Opened {
  created: boolean;
  /** The old connection's location when the config named a new one. */
  replaced?: string;
  location: string;
}

/**
 * Makes kopi-docka's kopia config point at the configured repository and proves it opens (reachable,
 * right password), before any container is touched. Never creates a repository a host has used
 * before (an unmounted disk, a wrong bucket); never writes into a location holding foreign data.
 */
export async function openRepository(
  d: OpenDeps,
  mode: OpenMode,
  /**
   * When the saved connection is the configured one (nothing to reconnect): a read the caller needs
   * anyway, started here, whose success proves the repository opens in place of `repository status`
   * (each kopia process derives the key and opens the repository: one fewer on every run).
   */
  proof?: () => Promise<unknown>,
): Promise<Opened> {
  const backend = backendOf(d.config.repository);
  const repo =
    (await backend.resolve?.(d.config.repository, { runner: d.runner, env: {} })) ?? d.config.repository;
  const location = backend.describe(repo);
  await checkReachable(repo, backend.endpoint?.(repo, process.env), location);
  const saved = readSavedConnection(d.paths.kopiaConfigFile);
  if (saved && sameConnection(saved, repo, backend, d.kopia)) {
    const probe = backend.probe?.(repo);
    if (probe && probe !== "repository")
      throw probe === "foreign" ? foreignData(location) : missingRepository(repo, location);
    await (proof ? proof() : d.kopia.status()).catch((e) => {
      throw withPendingPasswordHint(classifyStorageError(e, repo, location), repo.password_file);
    });
    writeMarker(d.paths.stateDir, { backend: repo.backend, location, connectedAt: new Date().toISOString() });
    return { created: false, location };
  }
  const marker = readMarker(d.paths.stateDir);
  const firstUse = !saved && !marker;
  const secrets = resolveSecrets(repo, backend);
  let replaced: string | undefined;
  if (saved) {
    replaced = marker?.location ?? describeSaved(saved);
    d.log.warn(`the configured repository changed: was ${replaced}, now ${location}; reconnecting`);
    await d.kopia.disconnect();
  }
  for (const tool of backend.tools(repo))
    if (!Bun.which(tool))
      throw new AppError(
        "dependency_missing",
        `the ${repo.backend} repository needs \`${tool}\`, which is not on PATH`,
        {
          hint: `install ${tool} (Debian: apt install ${toolPackage(tool)})`,
        },
      );
  const io = { runner: d.runner, env: secrets.env };
  const probe = backend.probe?.(repo) ?? (await backend.probeRemote?.(repo, io));
  d.log.debug(`${location}: ${probe ?? "not looked at before kopia"}`);
  if (probe === "foreign") throw foreignData(location);
  const mayCreate =
    backend.canCreate && (mode === "init" || (mode === "use" && firstUse && repo.backend === "filesystem"));
  const storage = backend.storageArgs(repo);
  // A repository we may create gets its password now: kopia needs one even to find out there is none.
  const generated = mayCreate && ensurePasswordFile(repo.password_file);
  try {
    if (probe === undefined || probe === "unknown" || probe === "repository") {
      const connected = await connect(d, repo, storage, secrets.env, location).catch((e) => {
        if (generated && e instanceof AppError && e.code === "repository_auth")
          throw missingPassword(repo, location);
        throw e;
      });
      if (connected) return done(d, repo, { created: false, location, replaced });
    }
    if (!mayCreate) throw missingRepository(repo, location, backend.canCreate);
    if (probe === "empty" || probe === "missing") await backend.prepareCreate?.(repo, io);
    await create(d, repo, storage, secrets.env, location);
    if (generated)
      d.log.info(`generated a new repository password in ${repo.password_file}: keep a copy elsewhere`);
    return done(d, repo, { created: true, location, replaced });
  } catch (e) {
    // Nothing of ours may stay behind when nothing was created.
    if (generated) rmSync(repo.password_file, { force: true });
    throw e;
  }
}

function missingPassword(repo: RepositoryConfig, where: string): AppError {
  return new AppError("config", `${repo.password_file} (repository.password_file) is missing`, {
    hint: `put the password of the repository at ${where} in that file (mode 0600); a new password cannot open old backups`,
  });
}

/** A password change killed halfway leaves the password kopia now wants in `<file>.new`: say so. */
function withPendingPasswordHint(e: unknown, file: string): unknown {
  if (!(e instanceof AppError) || e.code !== "repository_auth" || !existsSync(pendingPasswordFile(file)))
    return e;
  return new AppError(e.code, e.message, {
    hint: `a password change did not finish: ${pendingPasswordFile(file)} holds the new password; move it over ${file}`,
    cause: e,
  });
}

function done(d: OpenDeps, repo: RepositoryConfig, o: Opened): Opened {
  writeMarker(d.paths.stateDir, {
    backend: repo.backend,
    location: o.location,
    connectedAt: new Date().toISOString(),
  });
  return o;
}

/** true: connected; false: the location holds no repository. Anything else is thrown, classified. */
async function connect(
  d: OpenDeps,
  repo: RepositoryConfig,
  argv: string[],
  env: Record<string, string>,
  where: string,
) {
  if (!existsSync(repo.password_file)) throw missingPassword(repo, where);
  try {
    await d.kopia.connect(argv, { env });
    return true;
  } catch (e) {
    if (e instanceof AppError && e.code === "repository" && /no kopia repository exists/.test(e.message))
      return false;
    throw classifyStorageError(e, repo, where);
  }
}

async function create(
  d: OpenDeps,
  repo: RepositoryConfig,
  argv: string[],
  env: Record<string, string>,
  where: string,
) {
  const madeDir = repo.backend === "filesystem" && !existsSync(repo.path);
  if (madeDir) mkdirSync(repo.path, { recursive: true, mode: 0o700 });
  d.log.info(`creating a kopia repository at ${where}`);
  try {
    await d.kopia.create(argv, { env });
  } catch (e) {
    // Nothing of ours may stay behind: the location is as it was (the caller removes the password file).
    if (madeDir && repo.backend === "filesystem") rmSync(repo.path, { recursive: true, force: true });
    if (e instanceof ProcessError && /found existing data in storage location/.test(e.stderrTail))
      throw foreignData(where);
    throw classifyStorageError(e, repo, where);
  }
}

function sameConnection(
  saved: SavedConnection,
  repo: RepositoryConfig,
  backend: Backend,
  kopia: Kopia,
): boolean {
  const { hostname, username } = kopia.options;
  if (saved.hostname !== undefined && (saved.hostname !== hostname || saved.username !== username))
    return false;
  return backend.matches(saved, repo);
}

import { existsSync } from "node:fs";
import type { ResolvedPaths } from "../../config/resolve.ts";
import type { Config, RepositoryConfig } from "../../config/schema.ts";
import { AppError } from "../errors.ts";
import type { Kopia } from "../kopia/kopia.ts";
import type { Logger } from "../log.ts";
import type { Runner } from "../process/runner.ts";
import type { Backend, SavedConnection } from "./backend.ts";
import { backendOf } from "./backends/index.ts";
import { connectionInputs, digestMatches, savedHoldsSecrets } from "./connection-digest.ts";
import { withConnectionLock } from "./connection-lock.ts";
import { classifyStorageError, foreignData, missingRepository } from "./problems.ts";
import { checkReachable } from "./reach.ts";
import { reconnect, recordConnection } from "./reconnect.ts";
import {
  type ConnectionMarker,
  describeSaved,
  pendingPasswordFile,
  readMarker,
  readSavedConnection,
} from "./saved.ts";
import { type ResolvedSecrets, resolveSecrets, UnsetSecretEnvError } from "./secrets.ts";

export interface OpenDeps {
  kopia: Kopia;
  runner: Runner;
  config: Pick<Config, "repository">;
  paths: Pick<ResolvedPaths, "stateDir" | "kopiaConfigFile" | "lockFile">;
  log: Logger;
  /** Aborts the wait for the host lock a change of connection takes (see `withConnectionLock`). */
  lifecycle?: { signal: AbortSignal };
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

/** The configured repository, resolved: what a new connection is made of. */
export interface Target {
  repo: RepositoryConfig;
  backend: Backend;
  location: string;
  secrets: ResolvedSecrets;
  /** `connectionInputs` of this config: the marker keeps its digest. */
  inputs: string;
}

/**
 * Makes kopi-docka's kopia config point at the configured repository, with the configured
 * credentials, and proves it opens (reachable, right password), before any container is touched.
 * Never creates a repository a host has used before (an unmounted disk, a wrong bucket); never
 * writes into a location holding foreign data. A new connection is made beside the current one,
 * under the host lock, and replaces it only once kopia has made it: bad input changes nothing.
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
  const marker = readMarker(d.paths.stateDir);
  const here = saved !== undefined && sameConnection(saved, repo, backend, d.kopia);
  const useSaved = async () => {
    const probe = backend.probe?.(repo);
    if (probe && probe !== "repository")
      throw probe === "foreign" ? foreignData(location) : missingRepository(repo, location);
    await (proof ? proof() : d.kopia.status()).catch((e) => {
      throw withPendingPasswordHint(classifyStorageError(e, repo, location), repo.password_file);
    });
  };
  let secrets: ResolvedSecrets;
  try {
    secrets = resolveSecrets(repo, backend);
  } catch (e) {
    // A restore or a listing run by hand lacks what only the timer's environment sets: the connection
    // kopia saved at this very location still opens it (nothing to compare it with: it stays as is).
    if (!(here && e instanceof UnsetSecretEnvError)) throw e;
    d.log.warn(`${e.message}: using the credentials kopia saved when this host connected to ${location}`);
    await useSaved();
    return { created: false, location };
  }
  const t: Target = {
    repo,
    backend,
    location,
    secrets,
    inputs: connectionInputs(backend.storageArgs(repo), secrets.env),
  };
  if (here && isCurrent(saved, marker, t)) {
    await useSaved();
    // A marker without a digest (an older kopi-docka's) takes this one: kopia holds its secrets.
    return recordConnection(d, t, { created: false, location }, marker, marker?.connectionDigest);
  }
  let replaced: string | undefined;
  if (here) d.log.info(`the credentials or connection settings of ${location} changed; reconnecting`);
  else if (saved) {
    replaced = marker?.location ?? describeSaved(saved);
    const differs = backend.differs?.(saved, repo) ?? (replaced === location ? "connection settings" : "");
    const change = differs
      ? `the ${differs} of ${location} changed`
      : `the configured repository changed: was ${replaced}, now ${location}`;
    d.log.warn(`${change}; reconnecting (the connection to the old one stays until the new one opens)`);
  }
  const firstUse = !saved && !marker;
  return withConnectionLock(d, () => reconnect(d, mode, t, { firstUse, replaced }));
}

/**
 * The saved connection at the configured location is current when kopia holds each configured
 * secret and, once kopi-docka has connected with a digest, nothing else of the connection changed.
 */
function isCurrent(saved: SavedConnection, marker: ConnectionMarker | undefined, t: Target): boolean {
  const secretValues = t.backend.secrets(t.repo).flatMap((s) => t.secrets.env[s.env] ?? []);
  if (!savedHoldsSecrets(saved, secretValues)) return false;
  return marker?.connectionDigest === undefined || digestMatches(marker.connectionDigest, t.inputs);
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

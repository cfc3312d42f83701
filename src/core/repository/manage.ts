import { existsSync } from "node:fs";
import { AppError } from "../errors.ts";
import { type HostLockContext, withHostLock } from "../lock/host-lock.ts";
import { backendOf } from "./backends/index.ts";
import { type OpenDeps, type Opened, openRepository } from "./open.ts";
import { readSavedConnection } from "./saved.ts";

/**
 * What `repo init/connect/disconnect` need: each runs under the host lock, so a backup never has
 * kopia's connection changed under it, nor races a create (and its new password file) for the location.
 */
export type ManageDeps = OpenDeps & HostLockContext;

/** `repo init`: create the configured repository, or connect when one is there. Never overwrites. */
export function initRepository(d: ManageDeps): Promise<Opened> {
  return withHostLock(d, "repo init", {}, () => openRepository(d, "init"));
}

/** `repo connect`: connect to the existing repository; never creates one. */
export function connectRepository(d: ManageDeps): Promise<Opened> {
  return withHostLock(d, "repo connect", {}, () => openRepository(d, "connect"));
}

/**
 * `repo disconnect`: forget kopia's connection (and its cache). The marker that this host has used a
 * repository stays, so the next backup still refuses to create one where it finds none.
 */
export function disconnectRepository(d: ManageDeps): Promise<{ wasConnected: boolean; location: string }> {
  return withHostLock(d, "repo disconnect", {}, () => disconnect(d));
}

async function disconnect(d: OpenDeps): Promise<{ wasConnected: boolean; location: string }> {
  const location = backendOf(d.config.repository).describe(d.config.repository);
  const wasConnected = readSavedConnection(d.paths.kopiaConfigFile) !== undefined;
  if (wasConnected) await d.kopia.disconnect();
  if (existsSync(d.paths.kopiaConfigFile))
    throw new AppError("repository", `kopia did not remove ${d.paths.kopiaConfigFile}`, {
      hint: "remove it by hand (it holds the storage credentials)",
    });
  return { wasConnected, location };
}

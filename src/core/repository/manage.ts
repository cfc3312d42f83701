import { existsSync } from "node:fs";
import { AppError } from "../errors.ts";
import { backendOf } from "./backends/index.ts";
import { type OpenDeps, type Opened, openRepository } from "./open.ts";
import { readSavedConnection } from "./saved.ts";

/** `repo init`: create the configured repository, or connect when one is there. Never overwrites. */
export function initRepository(d: OpenDeps): Promise<Opened> {
  return openRepository(d, "init");
}

/** `repo connect`: connect to the existing repository; never creates one. */
export function connectRepository(d: OpenDeps): Promise<Opened> {
  return openRepository(d, "connect");
}

/**
 * `repo disconnect`: forget kopia's connection (and its cache). The marker that this host has used a
 * repository stays, so the next backup still refuses to create one where it finds none.
 */
export async function disconnectRepository(
  d: OpenDeps,
): Promise<{ wasConnected: boolean; location: string }> {
  const location = backendOf(d.config.repository).describe(d.config.repository);
  const wasConnected = readSavedConnection(d.paths.kopiaConfigFile) !== undefined;
  if (wasConnected) await d.kopia.disconnect();
  if (existsSync(d.paths.kopiaConfigFile))
    throw new AppError("repository", `kopia did not remove ${d.paths.kopiaConfigFile}`, {
      hint: "remove it by hand (it holds the storage credentials)",
    });
  return { wasConnected, location };
}

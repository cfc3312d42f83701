import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SavedConnection } from "./backend.ts";

/** kopia's saved connection (its config file), or undefined when this host is not connected. */
export function readSavedConnection(kopiaConfigFile: string): SavedConnection | undefined {
  if (!existsSync(kopiaConfigFile)) return undefined;
  try {
    return JSON.parse(readFileSync(kopiaConfigFile, "utf8")) as SavedConnection;
  } catch {
    // unreadable: treat as a connection to something else, so it is replaced, never trusted
    return {};
  }
}

/**
 * The marker that this host has connected to a repository (kept after `repo disconnect`). From then
 * on a missing repository is an error, never a reason to create one.
 */
export interface ConnectionMarker {
  backend: string;
  location: string;
  connectedAt: string;
}

const markerFile = (stateDir: string) => join(stateDir, "repository.json");

export function readMarker(stateDir: string): ConnectionMarker | undefined {
  try {
    return JSON.parse(readFileSync(markerFile(stateDir), "utf8")) as ConnectionMarker;
  } catch {
    return undefined;
  }
}

export function writeMarker(stateDir: string, m: ConnectionMarker): void {
  const file = markerFile(stateDir);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(m, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

/** Where a saved kopia connection points, for a message (no secret: kopia's fields we name only). */
export function describeSaved(saved: SavedConnection): string {
  if (saved.apiServer?.url) return saved.apiServer.url;
  const c = saved.storage?.config ?? {};
  const where = c.path ?? c.bucket ?? c.container ?? c.remotePath ?? c.url ?? "?";
  return `${saved.storage?.type ?? "unknown"} ${String(where)}`;
}

/** Where a password change keeps the new password until kopia has taken it. */
export const pendingPasswordFile = (file: string) => `${file}.new`;

import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { errnoCode } from "../caught.ts";
import { writeFileAtomic } from "../durable.ts";
import { isRecord } from "../guards.ts";
import type { SavedConnection } from "./backend.ts";

/** The part of kopia's config file kopi-docka reads (kopia writes more; the rest is dropped). */
const SavedConnectionSchema = z.object({
  storage: z.object({ type: z.string(), config: z.record(z.string(), z.unknown()) }).optional(),
  apiServer: z
    .object({ url: z.string().optional(), serverCertFingerprint: z.string().optional() })
    .optional(),
  hostname: z.string().optional(),
  username: z.string().optional(),
});

/** kopia's saved connection (its config file), or undefined when this host is not connected. */
export function readSavedConnection(kopiaConfigFile: string): SavedConnection | undefined {
  if (!existsSync(kopiaConfigFile)) return undefined;
  try {
    const parsed = SavedConnectionSchema.safeParse(JSON.parse(readFileSync(kopiaConfigFile, "utf8")));
    return parsed.success ? parsed.data : {};
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
  /**
   * `sealDigest` of what kopia's connection was made of (connection-digest.ts): salted, never a
   * secret. Absent in a marker an older kopi-docka wrote.
   */
  connectionDigest?: string;
}

const markerFile = (stateDir: string) => join(stateDir, "repository.json");

/** Undefined only when there is no marker: one that cannot be read or parsed still means "connected before". */
export function readMarker(stateDir: string): ConnectionMarker | undefined {
  const unknown = { backend: "?", location: "?", connectedAt: "?" };
  let text: string;
  try {
    text = readFileSync(markerFile(stateDir), "utf8");
  } catch (e) {
    return errnoCode(e) === "ENOENT" ? undefined : unknown;
  }
  try {
    // Any object counts: a marker with a field missing still means "connected before".
    const v: unknown = JSON.parse(text);
    if (!isRecord(v)) return unknown;
    return {
      backend: String(v.backend ?? "?"),
      location: String(v.location ?? "?"),
      connectedAt: String(v.connectedAt ?? "?"),
      ...(typeof v.connectionDigest === "string" ? { connectionDigest: v.connectionDigest } : {}),
    };
  } catch {
    return unknown;
  }
}

export function writeMarker(stateDir: string, m: ConnectionMarker): void {
  const file = markerFile(stateDir);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  writeFileAtomic(file, `${JSON.stringify(m, null, 2)}\n`, 0o600);
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

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseRunRecord } from "../backup/run-record-schema.ts";
import { isRecord } from "../guards.ts";
import type { RestorePoint } from "../restore/points.ts";
import { unsafeVariable } from "./bundle-env.ts";
import { alertReferences } from "./gather-alerts.ts";
import type { CarriedFile, EnvSecret, UnitEntry } from "./model.ts";

/** `*_file` keys that name something other than a secret to carry. */
const NOT_CARRIED = new Set(["paths.lock_file"]);

/** Every `*_file` / `*_env` value in the config, with its dotted key (arrays as `alerts.notify.0`). */
export function secretReferences(config: unknown): { files: [string, string][]; env: [string, string][] } {
  const files: [string, string][] = [];
  const env: [string, string][] = [];
  const walk = (v: unknown, key: string) => {
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, `${key}.${i}`);
    } else if (v && typeof v === "object")
      for (const [k, x] of Object.entries(v)) walk(x, key ? `${key}.${k}` : k);
    else if (typeof v === "string" && v && !NOT_CARRIED.has(key)) {
      if (key.endsWith("_file") && v.startsWith("/")) files.push([key, v]);
      if (key.endsWith("_env")) env.push([key, v]);
    }
  };
  walk(config, "");
  return { files, env };
}

/**
 * Reads what the config points at (`*_file`/`*_env` keys and the alert URLs' references): each file
 * once (the password file is carried apart), each named variable's value now, once. What is missing is a warning for the person exporting, never a silent gap.
 */
export function gatherSecrets(config: unknown, passwordFile: string, environment = process.env) {
  const refs = secretReferences(config);
  // Alert URLs name secrets too (`${VAR}`, `${file:…}`): without them no alert is sent after recovery.
  const inUrls = alertReferences(config);
  const carried: CarriedFile[] = [];
  const env: EnvSecret[] = [];
  const warnings: string[] = [...inUrls.warnings];
  const seen = new Set([passwordFile]);
  for (const [key, path] of [...refs.files, ...inUrls.files]) {
    if (seen.has(path)) continue;
    seen.add(path);
    if (!existsSync(path)) warnings.push(`${key}: ${path} does not exist; not in the bundle`);
    else carried.push({ key, path, data: new Uint8Array(readFileSync(path)) });
  }
  const named = new Set<string>();
  for (const [key, variable] of [...refs.env, ...inUrls.env]) {
    if (named.has(variable)) continue;
    named.add(variable);
    // A drill refuses such a bundle, and recover.sh would export it for every command it runs.
    if (unsafeVariable(variable)) {
      warnings.push(
        `${key}: $${variable} is not carried: it changes how programs run (PATH, LD_*, DOCKER_*, proxies, …), so no bundle sets it; name the secret's variable otherwise`,
      );
      continue;
    }
    const value = environment[variable];
    if (value === undefined) warnings.push(`${key}: $${variable} is not set; its value is not in the bundle`);
    else env.push({ key, variable, value });
  }
  for (const key of withoutOwnFile(config, "rclone", "config_file"))
    warnings.push(
      `${key}: rclone's own config (the remote and its credentials) is not in the bundle; set ${key}.config_file to it (\`rclone config file\` says where it is) and export again`,
    );
  for (const key of withoutOwnFile(config, "gcs", "credentials_file"))
    warnings.push(
      `${key}: Google's default credentials (the host's service account or gcloud login) are not in the bundle; set ${key}.credentials_file to a service account key file and export again`,
    );
  return { carried, env, warnings };
}

/** Keys of `backend` repositories (the repository, replicas) whose credentials are not a file of their own. */
function withoutOwnFile(config: unknown, backend: string, fileKey: string): string[] {
  const c = isRecord(config) ? config : {};
  const replicas = Array.isArray(c.replicas) ? c.replicas : [];
  return [
    ["repository", c.repository] as const,
    ...replicas.map((r, i) => [`replicas.${i}`, r] as const),
  ].flatMap(([key, r]) => (isRecord(r) && r.backend === backend && !r[fileKey] ? [key] : []));
}

/** Each unit's newest complete restore point recorded by `host` (points come newest first). */
export function unitInventory(points: readonly RestorePoint[], host: string): UnitEntry[] {
  const units = new Map<string, UnitEntry>();
  for (const p of points) {
    if (p.host !== host || !p.complete || p.phase || units.has(p.unit)) continue;
    units.set(p.unit, {
      unit: p.unit,
      host: p.host,
      point: p.key,
      backupId: p.backupId,
      timestamp: p.timestamp,
      volumes: p.volumes.map((v) => v.name),
      sizeBytes: p.sizeBytes,
    });
  }
  return [...units.values()].sort((a, b) => a.unit.localeCompare(b.unit));
}

/**
 * The newest `n` run records (names sort by time), as written. A file that is no run record (torn,
 * hand-written, foreign: `parseRunRecord` says) is not carried: the bundle's history is the host's.
 */
export function latestRunRecords(runsDir: string, n = 5): { name: string; text: string }[] {
  if (!existsSync(runsDir)) return [];
  const kept: { name: string; text: string }[] = [];
  for (const name of readdirSync(runsDir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .reverse()) {
    if (kept.length === n) break;
    let text: string;
    try {
      text = readFileSync(join(runsDir, name), "utf8");
    } catch {
      continue; // a directory or a file gone meanwhile: no record either
    }
    if ("record" in parseRunRecord(text)) kept.unshift({ name, text });
  }
  return kept;
}

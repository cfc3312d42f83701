import { basename, join } from "node:path";
import { parse, stringify } from "smol-toml";
import { AppError } from "../errors.ts";
import { isRecord } from "../guards.ts";
import type { BundleManifest } from "./model.ts";

export interface DrillFiles {
  configFile: string;
  configText: string;
  /** Secrets to write (0600) under the drill's own directory. */
  writes: { path: string; stored: string }[];
}

/**
 * The config a drill runs with: the bundle's own, the one recover.sh puts back, with every path moved
 * under `dir` (state, cache, lock, restore dir, the password and each carried file), another snapshot
 * identity (`<host>-drill`, so nothing is ever recorded as the old host; on a repository server the
 * one the bundle pins, the only user the server knows), and nothing that reaches outside: no hooks,
 * no notifications, no metrics file, no schedule. `[kopia]` stays: the drill proves the kopia recovery
 * would run. Pure; a server bundle that pins no host name is an error (recovery on another host would
 * fail).
 */
export function drillConfig(configText: string, m: BundleManifest, dir: string): DrillFiles {
  const secrets = join(dir, "secrets");
  const writes = [{ path: join(secrets, "repository.password"), stored: "secrets/repository.password" }];
  const moved = new Map(m.files.map((f) => [f.key, { from: f.path, to: join(secrets, basename(f.stored)) }]));
  for (const f of m.files) writes.push({ path: join(secrets, basename(f.stored)), stored: f.stored });
  const replace = (v: unknown, key: string): unknown => {
    // Only a key whose value is the file itself: a URL naming one inside `${file:…}` is left as it is.
    const file = moved.get(key);
    if (file && v === file.from) return file.to;
    if (Array.isArray(v)) return v.map((x, i) => replace(x, `${key}.${i}`));
    if (v && typeof v === "object")
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replace(x, key ? `${key}.${k}` : k)]));
    return v;
  };
  const replaced = replace(parse(configText), "");
  const config: Record<string, unknown> = isRecord(replaced) ? replaced : {};
  const repository = isRecord(config.repository) ? config.repository : {};
  // A repository server logs in as kopi-docka@<hostname>: only the old host's user exists there, and
  // the drill's connection is read-only, so nothing is recorded under it.
  const server = repository.backend === "server";
  if (server && !repository.hostname)
    throw new AppError(
      "check_failed",
      `the bundle's config pins no [repository] hostname: recover.sh on a host not named ${m.host} would log in to the repository server as kopi-docka@<that name>, a user the server does not know`,
      { hint: `export the bundle again with this kopi-docka (it pins hostname = "${m.host}")` },
    );
  config.repository = {
    ...repository,
    password_file: writes[0]?.path,
    hostname: server ? repository.hostname : `${m.host}-drill`.slice(0, 60),
  };
  config.paths = {
    state_dir: join(dir, "state"),
    cache_dir: join(dir, "cache"),
    lock_file: join(dir, "drill.lock"),
    restore_dir: join(dir, "restore"),
  };
  if (isRecord(config.backup)) delete config.backup.hooks;
  delete config.alerts;
  delete config.metrics;
  delete config.schedule;
  delete config.dr;
  const configFile = join(dir, "config.toml");
  return { configFile, configText: stringify(config), writes };
}

import { existsSync } from "node:fs";
import { DEFAULT_CONFIG_PATH, loadConfig } from "../../config/load.ts";
import { resolvePaths } from "../../config/resolve.ts";
import { ConfigSchema } from "../../config/schema.ts";
import { settleDeadRun } from "../containers/orphans.ts";
import { ConfigError } from "../errors.ts";
import { acquireLock, type LockHandle, LockHeldError } from "../lock/acquire.ts";
import type { Logger } from "../log.ts";
import type { InstalledService } from "./configs.ts";

/** One host lock to hold, and whose runs take it (for the message when it is held). */
export interface HostLock {
  file: string;
  users: string[];
}

export interface LocksToTake {
  /** Sorted by file, each once: every process takes them in this order, so two never deadlock. */
  locks: HostLock[];
  warnings: string[];
}

export interface LockLookup {
  exists: (path: string) => boolean;
  /** A config file's `paths.lock_file`; throws ConfigError when this binary rejects the file. */
  lockFileOf: (configPath: string) => string;
}

const readLookup: LockLookup = {
  exists: existsSync,
  lockFileOf: (path) => resolvePaths(loadConfig(path).config).lockFile,
};

/**
 * The lock of every config a run on this host reads: the one this command read (`own`) and each
 * installed service's. `install.sh --config /srv/kd.toml` puts that file in ExecStart, and it may
 * name another `paths.lock_file`: holding only our own would let the binary be swapped under the
 * nightly backup. A config this binary rejects falls back to the default lock, as `lockContext` does.
 */
export function locksToTake(
  own: { lockFile: string; configPath?: string },
  services: InstalledService[],
  lookup: LockLookup = readLookup,
): LocksToTake {
  const byFile = new Map<string, string[]>([[own.lockFile, ["this command"]]]);
  const warnings: string[] = [];
  for (const s of services) {
    const file = serviceLock(s, own, lookup, warnings);
    if (file) byFile.set(file, [...(byFile.get(file) ?? []), s.unit]);
  }
  const locks = [...byFile].map(([file, users]) => ({ file, users }));
  return { locks: locks.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)), warnings };
}

/** The lock a service's runs take; undefined when they take none. */
function serviceLock(
  s: InstalledService,
  own: { lockFile: string; configPath?: string },
  lookup: LockLookup,
  warnings: string[],
): string | undefined {
  const path = s.configPath ?? DEFAULT_CONFIG_PATH;
  if (path === own.configPath) return own.lockFile;
  const defaultLock = ConfigSchema.parse({}).paths.lock_file;
  // No --config and no default file: that run uses the built-in defaults. A named file that is
  // missing fails that run before it takes any lock.
  if (!lookup.exists(path)) return s.configPath === undefined ? defaultLock : undefined;
  try {
    return lookup.lockFileOf(path);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const issue = e.message.split("\n")[1]?.trim() ?? e.message;
    warnings.push(`this binary rejects ${path} (${issue}); using the lock ${defaultLock} for it`);
    return defaultLock;
  }
}

/**
 * Takes every lock in order, or none: a held one releases those already taken and throws "locked"
 * naming that lock and whose it is. What a dead holder left running is ended, as `withHostLock` does.
 * The returned release frees all (idempotent).
 */
export async function holdLocks(
  locks: HostLock[],
  command: string,
  log: Logger,
): Promise<{ release: () => void }> {
  const held: LockHandle[] = [];
  const release = () => {
    for (const h of [...held].reverse()) h.release();
  };
  const runId = `${command.replace(/[\s-]+/g, "-")}-${process.pid}-${Date.now()}`;
  try {
    for (const lock of locks) {
      held.push(await acquireLock(lock.file, { runId, command }).catch((e) => rethrow(e, lock)));
      await settleDeadRun(held.at(-1)?.tookOverFrom, { log });
    }
  } catch (e) {
    release();
    throw e;
  }
  return { release };
}

function rethrow(e: unknown, lock: HostLock): never {
  if (!(e instanceof LockHeldError)) throw e;
  throw new LockHeldError("locked", `${e.message} (the lock of: ${lock.users.join(", ")})`, {
    ...(e.hint ? { hint: e.hint } : {}),
  });
}

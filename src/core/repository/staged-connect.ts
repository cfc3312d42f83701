import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, relative } from "node:path";
import { fsyncDir, writeFileAtomic } from "../durable.ts";
import { AppError } from "../errors.ts";
import { isRecord } from "../guards.ts";
import { createKopia, type Kopia } from "../kopia/kopia.ts";
import type { Runner } from "../process/runner.ts";

/**
 * Makes a new kopia connection beside the current one, and puts it in place only once kopia has made
 * it (connected or created): kopia writes `<config>.next`, which is then renamed over the config.
 * Whatever fails before that (a mistyped location, a refused key, a signal) leaves the current
 * connection and its cache as they were, and nothing of the attempt behind.
 *
 * Every new connection gets a fresh cache, `<cache>.next`, which takes the old cache's place. The
 * live cache never serves the attempt, even at the same location: kopia trusts a cached
 * `kopia.repository` for 15 minutes, so a repository created anew there would take the old one's id
 * and keys (its data then unreadable to any other connection), and a connect kopia rejects after
 * reading the format removes the cache it was given. A reconnect is rare (another location, new
 * credentials); its cost is one cold cache.
 */
export async function stagedConnection<T>(
  d: { kopia: Kopia; runner: Runner },
  make: (staged: Kopia) => Promise<T>,
): Promise<T> {
  const { configFile, cacheDir } = d.kopia.options;
  const next = { configFile: `${configFile}.next`, cacheDir: `${cacheDir}.next` };
  discard(next); // a killed attempt's
  const staged = createKopia(d.runner, {
    ...d.kopia.options,
    configFile: next.configFile,
    cacheDir: next.cacheDir,
  });
  let made: T;
  try {
    made = await make(staged);
    // kopia writes its config last; a run that wrote none (a scripted runner) has nothing to swap in.
    if (!existsSync(next.configFile)) {
      discard(next);
      return made;
    }
    pointAtCache(next.configFile, cacheDir);
  } catch (e) {
    discard(next);
    throw e;
  }
  // From here on only renames and removals. The old cache goes before the new config takes over,
  // the new cache comes after it: at no moment does a config point at another connection's cache.
  rmSync(cacheDir, { recursive: true, force: true });
  renameSync(next.configFile, configFile);
  fsyncDir(dirname(configFile));
  moveCache(next.cacheDir, cacheDir);
  return made;
}

function discard(next: { configFile: string; cacheDir: string }): void {
  rmSync(next.configFile, { force: true });
  rmSync(next.cacheDir, { recursive: true, force: true });
}

/** The new repository's cache into place; when that fails, kopia fills an empty cache again. */
function moveCache(from: string, to: string): void {
  try {
    rmSync(to, { recursive: true, force: true });
    renameSync(from, to);
  } catch {
    rmSync(from, { recursive: true, force: true });
  }
}

/**
 * kopia keeps its cache directory in its config, relative to the config's own directory
 * (`LocalConfig.writeToFile`, resolved again by `LoadConfigFromFile`): the staged config is pointed
 * at the cache directory it will use once in place.
 */
function pointAtCache(configFile: string, cacheDir: string): void {
  const config: unknown = JSON.parse(readFileSync(configFile, "utf8"));
  if (!isRecord(config) || !isRecord(config.caching))
    throw new AppError("repository", `kopia wrote ${configFile} without a cache directory`, {
      hint: "this kopia version writes its config differently: report it, with `kopia --version`",
    });
  config.caching.cacheDirectory = relative(dirname(configFile), cacheDir);
  writeFileAtomic(configFile, `${JSON.stringify(config, null, 2)}\n`, 0o600);
}

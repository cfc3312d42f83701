import { loadConfig } from "../config/load.ts";
import { KOPIA_USERNAME, type ResolvedPaths, resolvePaths, snapshotHostname } from "../config/resolve.ts";
import type { Config } from "../config/schema.ts";
import { recoverIfNeeded } from "../core/containers/recover.ts";
import { createDocker, type Docker } from "../core/docker/docker.ts";
import { AppError } from "../core/errors.ts";
import { createKopia, type Kopia } from "../core/kopia/kopia.ts";
import { readPassword } from "../core/kopia/password.ts";
import { createLogger, type Logger } from "../core/log.ts";
import { createBunRunner, type Runner } from "../core/process/runner.ts";
import { type Lifecycle, processLifecycle } from "../core/safe-exit.ts";
import { isInteractive } from "../ui/interactive.ts";

/** Everything a command needs, built once. The only place that reads env, config and TTY state. */
export interface AppContext {
  config: Config;
  /** The config file read; undefined on the embedded default. */
  configPath: string | undefined;
  paths: ResolvedPaths;
  hostname: string;
  log: Logger;
  runner: Runner;
  docker: Docker;
  kopia: Kopia;
  lifecycle: Lifecycle;
  interactive: boolean;
  json: boolean;
}

export interface ContextArgs {
  config?: string;
  verbose?: boolean;
  quiet?: boolean;
  json?: boolean;
}

export function createLoggerFor(args: ContextArgs): Logger {
  return createLogger(args.quiet ? "quiet" : args.verbose ? "verbose" : "normal");
}

/**
 * Commands that change containers, the repository or the system say so; read-only ones never call
 * this. `reason` says why root is needed (default: the container/data reason most commands share).
 */
export function requireRoot(command: string, reason = "it stops containers and reads their data"): void {
  if (process.getuid?.() !== 0) {
    throw new AppError("not_root", `\`kopi-docka ${command}\` must run as root`, {
      hint: `${reason}: run \`sudo kopi-docka ${command}\``,
    });
  }
}

export function buildContext(args: ContextArgs): AppContext {
  const log = createLoggerFor(args);
  const { config, path } = loadConfig(args.config);
  const paths = resolvePaths(config);
  const hostname = snapshotHostname(config);
  const runner = createBunRunner({ debug: (m) => log.debug(m) });
  let password: string | undefined;
  const kopia = createKopia(runner, {
    configFile: paths.kopiaConfigFile,
    cacheDir: paths.kopiaCacheDir,
    logDir: paths.kopiaLogDir,
    password: () => {
      password ??= readPassword(paths.passwordFile);
      return password;
    },
    hostname,
    username: KOPIA_USERNAME,
    cacheSizeMb: config.repository.cache_size_mb,
  });
  return {
    config,
    configPath: path,
    paths,
    hostname,
    log,
    runner,
    docker: createDocker(runner),
    kopia,
    lifecycle: processLifecycle,
    interactive: isInteractive(),
    json: Boolean(args.json),
  };
}

/**
 * Self-heal at the start of a command: starts containers a dead run left stopped. Core flows call
 * `recoverIfNeeded` themselves, under the lock (core never imports from commands); this is for commands.
 */
export async function healJournal(ctx: AppContext): Promise<void> {
  await recoverIfNeeded(ctx);
}

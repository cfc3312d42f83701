import { loadConfig } from "../config/load.ts";
import { KOPIA_USERNAME, type ResolvedPaths, resolvePaths, snapshotHostname } from "../config/resolve.ts";
import { type Config, ConfigSchema } from "../config/schema.ts";
import { createDocker, type Docker } from "../core/docker/docker.ts";
import { AppError, ConfigError } from "../core/errors.ts";
import { chooseKopia, type KopiaChoice } from "../core/kopia/binary.ts";
import { createKopia, type Kopia } from "../core/kopia/kopia.ts";
import { readPassword } from "../core/kopia/password.ts";
import { createLogger, type Logger } from "../core/log.ts";
import { createBunRunner, type Runner } from "../core/process/runner.ts";
import { type Lifecycle, processLifecycle } from "../core/safe-exit.ts";
import { secretEnvNames } from "../core/secret-env.ts";
import { atTerminal, isInteractive } from "../ui/interactive.ts";

/**
 * What a command needs, in the spirit of kopia's CLI actions (no repository / repository reader /
 * repository writer). Each level includes the one before:
 * - `none`: no config file is read (version, systemd status, config init).
 * - `config`: the config file, its derived paths and the snapshot hostname; no repository.
 * - `reader`: plus kopia, which reads the repository (the password file is read on first use).
 * - `writer`: a reader that must run as root: it stops containers or writes the repository.
 * This module is the only place that reads env, config and TTY state for a command.
 */
export type Need = "none" | "config" | "reader" | "writer";

export interface BaseContext {
  log: Logger;
  runner: Runner;
  docker: Docker;
  lifecycle: Lifecycle;
  interactive: boolean;
  /** A person reads stderr at a terminal (stdout may be piped): an error is theirs to see, not an alert's. */
  atTerminal: boolean;
  /** stderr is a terminal: a secret generated for a person may be shown there (never in a log). */
  stderrTerminal: boolean;
}

export interface ConfigContext extends BaseContext {
  config: Config;
  /** The config file read; undefined on the embedded default. */
  configPath: string | undefined;
  /** Where the config file is looked for (what `config path` prints and `config init` writes). */
  expectedConfigPath: string;
  paths: ResolvedPaths;
  hostname: string;
  /** Which kopia runs (`kopia.binary`); resolved once, on first use (a full binary extracts it then). */
  kopiaChoice: () => Promise<KopiaChoice>;
}

/** A reader's or writer's context: everything, built once. */
export interface AppContext extends ConfigContext {
  kopia: Kopia;
}

/** The common arguments (`_shared.ts`); `json` is read by `emit`, not here. */
export interface ContextArgs {
  config?: string;
  verbose?: boolean;
  quiet?: boolean;
  json?: boolean;
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

export function needs(args: ContextArgs, need: "none"): BaseContext;
export function needs(args: ContextArgs, need: "config"): ConfigContext;
export function needs(args: ContextArgs, need: "reader"): AppContext;
/** `command` names the command in the not-root error (`sudo kopi-docka <command>`). */
export function needs(args: ContextArgs, need: "reader" | "writer", command: string): AppContext;
export function needs(args: ContextArgs, need: Need, command = ""): BaseContext {
  if (need === "writer") requireRoot(command);
  const log = createLogger(args.quiet ? "quiet" : args.verbose ? "verbose" : "normal");
  const runner = createBunRunner({ debug: (m) => log.debug(m) });
  const base: BaseContext = {
    log,
    runner,
    docker: createDocker(runner),
    lifecycle: processLifecycle,
    interactive: isInteractive(),
    atTerminal: atTerminal(),
    stderrTerminal: process.stderr.isTTY === true,
  };
  if (need === "none") return base;
  const { config, path, expectedPath } = loadConfig(args.config);
  const paths = resolvePaths(config);
  const hostname = snapshotHostname(config);
  const withConfig: ConfigContext = {
    ...base,
    docker: createDocker(runner, { compose: config.docker.compose, secretEnv: secretEnvNames(config) }),
    config,
    configPath: path,
    expectedConfigPath: expectedPath,
    paths,
    hostname,
    kopiaChoice: lazyKopiaChoice(config, paths.stateDir, runner),
  };
  if (need === "config") return withConfig;
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
    binary: async () => (await withConfig.kopiaChoice()).command,
  });
  const app: AppContext = { ...withConfig, kopia };
  return app;
}

/** `kopia.binary` resolved on first call and remembered (one `kopia --version`, one extraction). */
export function lazyKopiaChoice(
  config: Config,
  stateDir: string,
  runner: Runner,
): () => Promise<KopiaChoice> {
  let choice: Promise<KopiaChoice> | undefined;
  return () => {
    choice ??= chooseKopia(config.kopia.binary, { runner, stateDir });
    return choice;
  };
}

/** The choice under the default config: for commands that run without one (`version`, a broken config). */
export function defaultKopiaChoice(runner: Runner): () => Promise<KopiaChoice> {
  const config = ConfigSchema.parse({});
  return lazyKopiaChoice(config, config.paths.state_dir, runner);
}

/**
 * What `upgrade --rollback` needs, also when this binary rejects the config (often the very reason to
 * roll back): the host lock from the config, else the default one, with a warning.
 */
export function lockContext(args: ContextArgs): BaseContext & { lockFile: string; configPath?: string } {
  const base = needs(args, "none");
  try {
    const { config, path } = loadConfig(args.config);
    return { ...base, lockFile: resolvePaths(config).lockFile, ...(path ? { configPath: path } : {}) };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const lockFile = ConfigSchema.parse({}).paths.lock_file;
    base.log.warn(`this binary rejects the config (${e.message.split("\n")[0]}); using the lock ${lockFile}`);
    return { ...base, lockFile };
  }
}

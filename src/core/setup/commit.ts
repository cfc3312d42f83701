import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, openSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseConfigText } from "../../config/load.ts";
import { KOPIA_USERNAME, type ResolvedPaths, resolvePaths, snapshotHostname } from "../../config/resolve.ts";
import type { Config } from "../../config/schema.ts";
import { writeConfigText } from "../../config/write.ts";
import { fsyncDir, writeAndSync } from "../durable.ts";
import { UsageError } from "../errors.ts";
import { createKopia } from "../kopia/kopia.ts";
import { readPassword } from "../kopia/password.ts";
import { withHostLock } from "../lock/host-lock.ts";
import type { Logger } from "../log.ts";
import type { Runner } from "../process/runner.ts";
import { openRepository } from "../repository/open.ts";
import { type Lifecycle, PRIORITY } from "../safe-exit.ts";
import { type SetupKopia, setupKopiaBinary } from "./kopia.ts";
import type { SetupAnswers } from "./model.ts";

export interface CommitContext {
  runner: Runner;
  log: Logger;
  lifecycle: Lifecycle;
  /** Tests: the embedded kopia and PATH that `chooseKopia` sees. */
  kopiaSeams?: SetupKopia["seams"];
}

export interface CommitResult {
  configPath: string;
  /** The replaced config, kept (only with --force). */
  backup?: string;
  repositoryCreated: boolean;
  passwordFile: string;
  /** A generated password: the caller shows it once; it is also in the 0600 password file. */
  generatedPassword?: string;
}

/** Writes a new password file (0600, O_EXCL: never over an existing one), durably. */
function writeNewPassword(file: string, password: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeAndSync(openSync(file, "wx", 0o600), `${password}\n`);
  fsyncDir(dirname(file));
}

/**
 * The only step of setup that changes anything, after every question is answered: the password file,
 * the repository (created when new, connected when it exists: never overwritten), then the config,
 * atomically, all under the host lock. Until the config is written, whatever this step made is undone
 * on failure or Ctrl+C (the password file it wrote, the repository directory it created, kopia's
 * connection), so an interrupted setup leaves no half-made repository and no config; a remote
 * repository it created cannot be undone, so its password file stays.
 */
export async function commitSetup(
  ctx: CommitContext,
  a: SetupAnswers,
  o: { configText: string; force: boolean; now: Date },
): Promise<CommitResult> {
  if (existsSync(a.configPath) && !o.force)
    throw new UsageError(
      `${a.configPath} already exists`,
      "pass --force to replace it (the old file is kept as .bak-<time>)",
    );
  const config = parseConfigText(o.configText, a.configPath);
  const paths = resolvePaths(config);
  // Under the host lock: the first timer-started backup must not create the repository (and its
  // password file) while setup does, nor have kopia's connection changed under it.
  return withHostLock({ ...ctx, paths }, "setup", {}, () => commitLocked(ctx, a, o, config, paths));
}

async function commitLocked(
  ctx: CommitContext,
  a: SetupAnswers,
  o: { configText: string; force: boolean; now: Date },
  config: Config,
  paths: ResolvedPaths,
): Promise<CommitResult> {
  const undo: (() => void)[] = [];
  let done = false;
  let keepPassword = false;
  const compensation = ctx.lifecycle.register("undo a half-made setup", PRIORITY.cleanup, () => {
    if (!done) for (const fn of undo.reverse()) fn();
  });
  try {
    let generatedPassword: string | undefined;
    if (a.password.kind !== "existing") {
      if (existsSync(a.passwordFile))
        throw new UsageError(
          `${a.passwordFile} already exists`,
          "use its password (answer: use the existing file), or choose another password file",
        );
      const value = a.password.kind === "typed" ? a.password.value : randomBytes(32).toString("base64url");
      writeNewPassword(a.passwordFile, value);
      undo.push(() => {
        if (!keepPassword) rmSync(a.passwordFile, { force: true });
      });
      if (a.password.kind === "generate") generatedPassword = value;
    }
    const repoDir = config.repository.backend === "filesystem" ? config.repository.path : undefined;
    if (repoDir && !existsSync(repoDir)) undo.push(() => rmSync(repoDir, { recursive: true, force: true }));
    else if (repoDir && readdirSync(repoDir).length === 0)
      undo.push(() => {
        for (const f of readdirSync(repoDir)) rmSync(join(repoDir, f), { recursive: true, force: true });
      });
    if (!existsSync(paths.stateDir))
      undo.push(() => rmSync(paths.stateDir, { recursive: true, force: true }));
    else if (!existsSync(paths.kopiaConfigFile))
      undo.push(() => rmSync(paths.kopiaConfigFile, { force: true }));
    const kopia = createKopia(ctx.runner, {
      configFile: paths.kopiaConfigFile,
      cacheDir: paths.kopiaCacheDir,
      logDir: paths.kopiaLogDir,
      password: () => readPassword(a.passwordFile),
      hostname: snapshotHostname(config),
      username: KOPIA_USERNAME,
      cacheSizeMb: config.repository.cache_size_mb,
      binary: setupKopiaBinary(ctx.runner, { config, seams: ctx.kopiaSeams }),
    });
    const { created } = await openRepository(
      { kopia, runner: ctx.runner, config, paths, log: ctx.log },
      "init",
    );
    // A remote repository it created stays whatever fails next: only this password opens it.
    keepPassword = created && !repoDir;
    let backup: string | undefined;
    try {
      ({ backup } = writeConfigText(a.configPath, o.configText, o.force, o.now));
    } catch (e) {
      if (keepPassword)
        ctx.log.warn(
          `the repository was created and stays; ${a.passwordFile} keeps its password: run setup again and use that file`,
        );
      throw e;
    }
    done = true;
    return {
      configPath: a.configPath,
      backup,
      repositoryCreated: created,
      passwordFile: a.passwordFile,
      generatedPassword,
    };
  } finally {
    await compensation.run();
  }
}

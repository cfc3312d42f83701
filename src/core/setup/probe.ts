import { accessSync, constants, existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { KOPIA_USERNAME } from "../../config/resolve.ts";
import type { RepositoryConfig } from "../../config/schema.ts";
import { RepositorySchema } from "../../config/schema-repository.ts";
import { connectReadOnly } from "../dr/connect.ts";
import { AppError } from "../errors.ts";
import { createKopia } from "../kopia/kopia.ts";
import type { Runner } from "../process/runner.ts";
import { makeTempDir } from "../process/temp-dirs.ts";
import { toolPackage } from "../repository/backend.ts";
import { filesystemRepositoryExists } from "../repository/backends/filesystem.ts";
import { backendOf } from "../repository/backends/index.ts";
import { foreignData } from "../repository/problems.ts";
import { checkReachable } from "../repository/reach.ts";
import { resolveSecrets } from "../repository/secrets.ts";
import { type SetupKopia, setupKopiaBinary } from "./kopia.ts";
import type { LocationState, SetupAnswers } from "./model.ts";

/** The repository the answers name (backend and its keys; defaults for the rest), for the tests. */
export function repositoryOf(a: SetupAnswers): RepositoryConfig {
  return RepositorySchema.parse(
    a.backend === "filesystem"
      ? { path: a.repositoryPath }
      : { backend: a.backend, ...a.backendOptions, password_file: a.passwordFile },
  );
}

/** The nearest existing directory at or above `path`: where a new directory would be made. */
function nearestExisting(path: string): string {
  let p = path;
  while (!existsSync(p) && p !== "/") p = dirname(p);
  return p;
}

/**
 * The live connection test for a filesystem location, before setup moves on: a kopia repository is
 * there (connect to it), or the place is empty and writable (a new one will be made). A directory
 * holding anything else is refused: setup never writes a repository over someone's data.
 */
export function probeFilesystem(path: string): LocationState {
  if (filesystemRepositoryExists(path)) return "existing";
  if (existsSync(path)) {
    if (!statSync(path).isDirectory()) throw new AppError("usage", `${path} is a file, not a directory`);
    if (readdirSync(path).length > 0)
      throw new AppError("usage", `${path} holds other files and no kopia repository`, {
        hint: "choose an empty directory or the directory of an existing kopi-docka repository",
      });
  }
  const parent = nearestExisting(path);
  try {
    accessSync(parent, constants.W_OK);
  } catch {
    throw new AppError("usage", `${parent} is not writable, so ${path} cannot be made`, {
      hint: "run as root",
    });
  }
  return "new";
}

/**
 * Whether `password` opens the existing repository: a connection with a throwaway kopia config in a
 * private temp dir, removed afterwards, so a wrong guess leaves nothing behind. Other failures throw.
 * It runs the kopia the config being written will (`kopia` names it; the defaults' choice without).
 */
export async function passwordOpens(
  runner: Runner,
  repo: RepositoryConfig,
  password: string,
  kopiaSetup: SetupKopia = {},
): Promise<boolean> {
  const dir = makeTempDir("setup");
  const kopia = createKopia(runner, {
    configFile: join(dir, "repository.config"),
    cacheDir: join(dir, "cache"),
    logDir: join(dir, "logs"),
    password: () => password,
    hostname: "kopi-docka-setup",
    username: KOPIA_USERNAME,
    // Into the probe's own temp dir: before the commit nothing may land in the state dir (a setup
    // interrupted after a probe would leave it there, and the commit would not take it back).
    binary: setupKopiaBinary(runner, kopiaSetup, dir),
  });
  try {
    await connectReadOnly(kopia, repo, { runner });
    return true;
  } catch (e) {
    if (e instanceof AppError && e.code === "repository_auth") return false;
    throw e;
  } finally {
    await kopia.disconnect().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The live connection test for a remote location, read-only: resolves its name, reaches its server,
 * checks the secrets and tools it needs, then lists the location where the backend can (no kopia
 * connect, which already writes). Throws the reason; foreign data is refused like at commit time.
 */
export async function probeRemote(runner: Runner, config: RepositoryConfig): Promise<LocationState> {
  const backend = backendOf(config);
  const repo = (await backend.resolve?.(config, { runner, env: {} })) ?? config;
  const location = backend.describe(repo);
  await checkReachable(repo, backend.endpoint?.(repo, process.env), location);
  const secrets = resolveSecrets(repo, backend);
  for (const tool of backend.tools(repo))
    if (!Bun.which(tool))
      throw new AppError("dependency_missing", `the ${repo.backend} backend needs \`${tool}\` on PATH`, {
        hint: `Debian: apt install ${toolPackage(tool)}`,
      });
  const seen = await backend.probeRemote?.(repo, { runner, env: secrets.env });
  if (seen === "foreign") throw foreignData(location);
  return seen === "repository" ? "existing" : "new";
}

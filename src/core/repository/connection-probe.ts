import { join } from "node:path";
import type { RepositoryConfig } from "../../config/schema.ts";
import { createKopia, type Kopia } from "../kopia/kopia.ts";
import type { Runner } from "../process/runner.ts";
import { ownedTempDir } from "../process/temp-dirs.ts";
import type { Lifecycle } from "../safe-exit.ts";
import { backendOf } from "./backends/index.ts";
import { connectTo } from "./connect-or-create.ts";
import { foreignData, missingRepository } from "./problems.ts";
import { checkReachable } from "./reach.ts";
import { requireTools } from "./reconnect.ts";
import { resolveSecrets } from "./secrets.ts";

export interface ProbeDeps {
  /** kopi-docka's kopia: its options (binary, password, host and user names, logs) are the probe's. */
  kopia: Kopia;
  runner: Runner;
  repo: RepositoryConfig;
  /** Removes the probe's temp dir on a signal too (kopia's config in it holds the storage credentials). */
  lifecycle: Pick<Lifecycle, "register">;
  /** kopia's limit for the connect (a backup's is 5 minutes). */
  timeoutMs?: number;
  /** What no repository at the location is (a replica's: its copy gone); else `missingRepository`. */
  missing?: (repo: RepositoryConfig, where: string) => Error;
}

/**
 * A look at the configured repository when kopi-docka has no connection to it yet (a fresh host after
 * `setup`, a DR host): the steps the next backup's connect takes (`openRepository`, `reconnect`), up to
 * kopia's `repository connect --readonly` into a kopia config of its own, in a private temp dir. So a
 * wrong password, a changed host key, a refused key or a server that is down shows now, in the
 * words the backup would use, not at the first backup. kopi-docka's own connection and marker are
 * neither read nor written, nothing is created; the temp dir goes however this ends. Resolves with
 * the location when the repository opens; throws what the backup would throw otherwise.
 */
export async function probeConnection(d: ProbeDeps): Promise<string> {
  const backend = backendOf(d.repo);
  const repo = (await backend.resolve?.(d.repo, { runner: d.runner, env: {} })) ?? d.repo;
  const where = backend.describe(repo);
  await checkReachable(repo, backend.endpoint?.(repo, process.env), where);
  const secrets = resolveSecrets(repo, backend);
  requireTools(repo, backend);
  // A backup runs no create at a remote location, nor at a local one this host has used: an empty
  // one is a repository that is not there.
  const io = { runner: d.runner, env: secrets.env };
  const seen = backend.probe?.(repo) ?? (await backend.probeRemote?.(repo, io));
  if (seen === "foreign") throw foreignData(where);
  const missing = () => d.missing?.(repo, where) ?? missingRepository(repo, where, backend.canCreate);
  if (seen === "empty" || seen === "missing") throw missing();
  const { dir, remove } = ownedTempDir(d.lifecycle, "repo-probe");
  try {
    const kopia = createKopia(d.runner, {
      ...d.kopia.options,
      configFile: join(dir, "repository.config"),
      cacheDir: join(dir, "cache"),
    });
    const storage = [...backend.storageArgs(repo), "--readonly"];
    const opened = await connectTo(kopia, repo, storage, secrets.env, where, { timeoutMs: d.timeoutMs });
    if (!opened) throw missing();
    return where;
  } finally {
    await remove();
  }
}

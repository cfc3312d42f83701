import { existsSync } from "node:fs";
import type { RepositoryConfig } from "../../config/schema.ts";
import { errorMessage } from "../caught.ts";
import type { Check } from "../doctor.ts";
import { AppError } from "../errors.ts";
import type { Kopia } from "../kopia/kopia.ts";
import type { Runner } from "../process/runner.ts";
import type { Lifecycle } from "../safe-exit.ts";
import { backendOf } from "./backends/index.ts";
import { probeConnection } from "./connection-probe.ts";
import { classifyStorageError, missingRepository } from "./problems.ts";
import { readMarker } from "./saved.ts";

/** How long `repository status` may take before doctor says it is still waiting (and for how long). */
export const SLOW_ANSWER_MS = 5_000;

/** kopia's limit for the probe's connect: `repository status`'s, so a hung server reads the same. */
export const ANSWER_LIMIT_MS = 120_000;

export interface RepositoryCheckOptions {
  /** Filesystem only: the repository's files are at its path (a remote location is looked at). */
  exists: boolean;
  kopiaConfigFile: string;
  /** Where the marker of this host's first connection is. */
  stateDir: string;
  runner: Runner;
  /** Removes the probe's temp dir however doctor ends. */
  lifecycle: Pick<Lifecycle, "register">;
  progress?: (line: string) => void;
  slowMs?: number;
}

/**
 * `doctor`'s `repository` line, read-only. Connected: one `repository status` on kopi-docka's own
 * connection. Not yet (a fresh host, a DR host): the look the next backup's connect takes
 * (`probeConnection`), into a throwaway kopia config. A failure is told as a backup would tell it
 * (the server down, hung, refusing the credentials, a changed host key or certificate).
 */
export async function repositoryCheck(
  kopia: Kopia,
  repo: RepositoryConfig,
  o: RepositoryCheckOptions,
): Promise<Check> {
  const where = backendOf(repo).describe(repo);
  const connected = existsSync(o.kopiaConfigFile);
  if (repo.backend === "filesystem" && !o.exists) {
    // A backup creates one on this host's first use only; after that, no repository is a disk that
    // is not mounted, and the backup refuses.
    if (!connected && !readMarker(o.stateDir))
      return { id: "repository", status: "warn", detail: "not created yet: the first backup creates it" };
    return failed(missingRepository(repo, where));
  }
  // A hung server holds this call until kopia's limit: say what is being waited for meanwhile.
  const slow = setTimeout(
    () => o.progress?.(`waiting for the repository at ${where} to answer…`),
    o.slowMs ?? SLOW_ANSWER_MS,
  );
  try {
    const s = connected ? await kopia.status() : undefined;
    if (s)
      return {
        id: "repository",
        status: "ok",
        detail: `connected (${s.storage?.type}) as ${s.clientOptions?.username}@${s.clientOptions?.hostname}`,
      };
    const at = await probeConnection({ ...o, kopia, repo, timeoutMs: ANSWER_LIMIT_MS });
    return {
      id: "repository",
      status: "ok",
      detail: `${at} opens with the configured credentials and password (not connected yet: the next backup connects)`,
    };
  } catch (e) {
    return failed(classifyStorageError(e, repo, where));
  } finally {
    clearTimeout(slow);
  }
}

function failed(told: unknown): Check {
  return {
    id: "repository",
    status: "fail",
    detail: errorMessage(told),
    ...(told instanceof AppError && told.hint ? { hint: told.hint } : {}),
  };
}

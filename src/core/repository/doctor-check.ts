import { existsSync } from "node:fs";
import type { RepositoryConfig } from "../../config/schema.ts";
import { errorMessage } from "../caught.ts";
import type { Check } from "../doctor.ts";
import { AppError } from "../errors.ts";
import type { Kopia } from "../kopia/kopia.ts";
import { backendOf } from "./backends/index.ts";
import { classifyStorageError } from "./problems.ts";

/** How long `repository status` may take before doctor says it is still waiting (and for how long). */
export const SLOW_ANSWER_MS = 5_000;

/**
 * `doctor`'s `repository` line: one `repository status` on kopi-docka's own connection, read-only.
 * A failure is told as a backup would tell it (the server down, hung, refusing the credentials).
 */
export async function repositoryCheck(
  kopia: Kopia,
  repo: RepositoryConfig,
  o: { exists: boolean; kopiaConfigFile: string; progress?: (line: string) => void; slowMs?: number },
): Promise<Check> {
  if (!o.exists)
    return { id: "repository", status: "warn", detail: "not created yet: the first backup creates it" };
  if (!existsSync(o.kopiaConfigFile))
    return {
      id: "repository",
      status: "warn",
      detail: "exists, not connected yet: the next backup connects",
    };
  const where = backendOf(repo).describe(repo);
  // A hung server holds this call until kopia's limit: say what is being waited for meanwhile.
  const slow = setTimeout(
    () => o.progress?.(`waiting for the repository at ${where} to answer…`),
    o.slowMs ?? SLOW_ANSWER_MS,
  );
  try {
    const s = await kopia.status();
    return s
      ? {
          id: "repository",
          status: "ok",
          detail: `connected (${s.storage?.type}) as ${s.clientOptions?.username}@${s.clientOptions?.hostname}`,
        }
      : { id: "repository", status: "warn", detail: "not connected: the next backup connects" };
  } catch (e) {
    const told = classifyStorageError(e, repo, where);
    return {
      id: "repository",
      status: "fail",
      detail: errorMessage(told),
      ...(told instanceof AppError && told.hint ? { hint: told.hint } : {}),
    };
  } finally {
    clearTimeout(slow);
  }
}

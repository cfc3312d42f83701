import type { RepositoryConfig } from "../../config/schema.ts";
import type { Kopia } from "../kopia/kopia.ts";
import { backendOf } from "../repository/backends/index.ts";
import { resolveSecrets } from "../repository/secrets.ts";

/**
 * A read-only kopia connection (`dr drill`, setup's password test) through the backend contract:
 * its storage arguments, its secrets in kopia's env (read from `<key>_file`, or `environ` for
 * `<key>_env`), never in argv.
 */
export async function connectReadOnly(
  kopia: Kopia,
  repo: RepositoryConfig,
  environ: Record<string, string | undefined> = process.env,
): Promise<void> {
  const backend = backendOf(repo);
  const secrets = resolveSecrets(repo, backend, environ);
  await kopia.connect([...backend.storageArgs(repo), "--readonly"], { env: secrets.env });
}

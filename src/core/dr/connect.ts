import type { RepositoryConfig } from "../../config/schema.ts";
import type { Kopia } from "../kopia/kopia.ts";
import type { Runner } from "../process/runner.ts";
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
  o: { runner: Runner; environ?: Record<string, string | undefined> },
): Promise<void> {
  const backend = backendOf(repo);
  // A location named indirectly (a tailnet peer) is looked up first, as openRepository does: its host
  // key is pinned under the address, not the name.
  const where = (await backend.resolve?.(repo, { runner: o.runner, env: {} })) ?? repo;
  const secrets = resolveSecrets(where, backend, o.environ ?? process.env);
  await kopia.connect([...backend.storageArgs(where), "--readonly"], { env: secrets.env });
}

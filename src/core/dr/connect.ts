import type { RepositoryConfig } from "../../config/schema.ts";
import type { Kopia } from "../kopia/kopia.ts";
import { storageArgs } from "../kopia/kopia.ts";

/**
 * The one place dr and setup reach the repository backends: a read-only kopia connection (`dr drill`,
 * setup's password test) with the configured backend's storage arguments. When the backend contract
 * of src/core/repository/ lands, this takes its storage args and secret env instead.
 */
export async function connectReadOnly(kopia: Kopia, repo: RepositoryConfig): Promise<void> {
  await kopia.connect([...storageArgs(repo), "--readonly"]);
}

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RepositoryConfig } from "../../config/schema.ts";
import type { Kopia } from "../kopia/kopia.ts";
import { backendOf } from "../repository/backends/index.ts";
import { resolveSecrets } from "../repository/secrets.ts";

/**
 * A read-only kopia connection (`dr drill`, setup's password test) through the backend contract:
 * its storage arguments, its secrets in kopia's env (read from `<key>_file`, or `environ` for
 * `<key>_env`), a flag-only secret through a private `@file` removed right after.
 */
export async function connectReadOnly(
  kopia: Kopia,
  repo: RepositoryConfig,
  environ: Record<string, string | undefined> = process.env,
): Promise<void> {
  const backend = backendOf(repo);
  const secrets = resolveSecrets(repo, backend, environ);
  const argv = [...backend.storageArgs(repo)];
  let dir: string | undefined;
  if (secrets.flagLines.length) {
    dir = mkdtempSync(join(tmpdir(), "kopi-docka-args-"));
    const file = join(dir, "args");
    writeFileSync(file, `${secrets.flagLines.join("\n")}\n`, { mode: 0o600 });
    argv.push(`@${file}`);
  }
  try {
    await kopia.connect([...argv, "--readonly"], { env: secrets.env });
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

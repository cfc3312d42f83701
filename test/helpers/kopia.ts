import { join } from "node:path";
import type { RepositoryConfig } from "../../src/config/schema.ts";
import { createKopia } from "../../src/core/kopia/kopia.ts";
import { readPassword } from "../../src/core/kopia/password.ts";
import { createBunRunner, type Runner } from "../../src/core/process/runner.ts";

/**
 * The real kopia wrapper and a filesystem repository config with everything under `dir`: kopia's
 * config, cache and logs, the repository and its password file (ensureRepository creates both).
 */
export function tempKopia(dir: string, o: { runner?: Runner; hostname?: string } = {}) {
  const kopia = createKopia(o.runner ?? createBunRunner(), {
    configFile: join(dir, "kopia", "repository.config"),
    cacheDir: join(dir, "cache"),
    logDir: join(dir, "logs"),
    password: () => readPassword(join(dir, "password")),
    hostname: o.hostname ?? "kd-test-host",
    username: "kopi-docka",
  });
  const repo: RepositoryConfig = {
    backend: "filesystem",
    path: join(dir, "repo"),
    password_file: join(dir, "password"),
    hostname: "",
    compression: "zstd",
    cache_size_mb: 0,
  };
  return { kopia, repo };
}

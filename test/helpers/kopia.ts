import { join } from "node:path";
import type { RepositoryConfig } from "../../src/config/schema.ts";
import { createKopia } from "../../src/core/kopia/kopia.ts";
import { readPassword } from "../../src/core/kopia/password.ts";
import { silentLogger } from "../../src/core/log.ts";
import type { Runner } from "../../src/core/process/runner.ts";
import { createBunRunner } from "../../src/core/process/runner.ts";
import { openRepository } from "../../src/core/repository/open.ts";

/**
 * The kopia wrapper on a scripted runner (a FakeRunner): its files under `dir`, password "pw",
 * identity kopi-docka@`hostname`.
 */
export function kopiaOn(runner: Runner, dir: string, hostname = "h") {
  return createKopia(runner, {
    configFile: join(dir, "kopia.config"),
    cacheDir: join(dir, "cache"),
    logDir: join(dir, "logs"),
    password: () => "pw",
    hostname,
    username: "kopi-docka",
  });
}

/**
 * The real kopia wrapper and a filesystem repository config with everything under `dir`: kopia's
 * config, cache and logs, the repository and its password file (`open()` creates both on first use).
 */
export function tempKopia(dir: string, o: { runner?: Runner; hostname?: string } = {}) {
  const kopiaConfigFile = join(dir, "kopia", "repository.config");
  const kopia = createKopia(o.runner ?? createBunRunner(), {
    configFile: kopiaConfigFile,
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
    max_upload_speed: 0,
    max_download_speed: 0,
  };
  const open = () =>
    openRepository(
      {
        kopia,
        runner: o.runner ?? createBunRunner(),
        config: { repository: repo },
        paths: { stateDir: dir, kopiaConfigFile, lockFile: join(dir, "kopi-docka.lock") },
        log: silentLogger(),
      },
      "use",
    );
  return { kopia, repo, open };
}

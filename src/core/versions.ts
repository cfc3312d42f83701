import type { Docker } from "./docker/docker.ts";
import { installedKopiaVersion } from "./kopia/version.ts";
import type { Runner } from "./process/runner.ts";

/** What `version` reports; null where a tool is missing or its daemon does not answer. */
export interface Versions {
  kopiDocka: string;
  commit: string;
  bun: string;
  kopia: string | null;
  dockerClient: string | null;
  dockerServer: string | null;
  /** The compose `restore --start` would run (`docker compose` or `docker-compose`) and its version. */
  compose: { command: string; version: string } | null;
}

/**
 * The versions of kopi-docka and of the tools it drives. Needs no config; neither tool being absent is
 * an error here.
 */
export async function readVersions(
  deps: { runner: Runner; docker: Docker },
  self: { version: string; commit: string },
): Promise<Versions> {
  const kopia = await installedKopiaVersion(deps.runner, 10_000);
  const docker = await deps.docker.version().catch(() => undefined);
  const compose = await deps.docker.composeVersion().catch(() => undefined);
  return {
    kopiDocka: self.version,
    commit: self.commit,
    bun: Bun.version,
    kopia: kopia ?? null,
    dockerClient: docker?.client ?? null,
    dockerServer: docker?.server ?? null,
    compose: compose ? { command: compose.command.join(" "), version: compose.version } : null,
  };
}

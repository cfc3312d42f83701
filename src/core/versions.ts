import type { Docker } from "./docker/docker.ts";
import { parseKopiaVersion } from "./kopia/parse.ts";
import type { Runner } from "./process/runner.ts";

/** What `version` reports; null where a tool is missing or its daemon does not answer. */
export interface Versions {
  kopiDocka: string;
  commit: string;
  bun: string;
  kopia: string | null;
  dockerClient: string | null;
  dockerServer: string | null;
}

/**
 * The versions of kopi-docka and of the tools it drives. Needs no config: `kopia --version` runs bare
 * (not through the configured wrapper), and neither tool being absent is an error here.
 */
export async function readVersions(
  deps: { runner: Runner; docker: Docker },
  self: { version: string; commit: string },
): Promise<Versions> {
  const kopiaOut = await deps.runner
    .run(["kopia", "--version"], { check: false, timeoutMs: 10_000 })
    .catch(() => undefined);
  const docker = await deps.docker.version().catch(() => undefined);
  return {
    kopiDocka: self.version,
    commit: self.commit,
    bun: Bun.version,
    kopia: kopiaOut?.exitCode === 0 ? (parseKopiaVersion(kopiaOut.stdout) ?? null) : null,
    dockerClient: docker?.client ?? null,
    dockerServer: docker?.server ?? null,
  };
}

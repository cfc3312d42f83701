import type { Docker } from "./docker/docker.ts";
import type { KopiaChoice, KopiaSource } from "./kopia/binary.ts";

/** What `version` reports; null where a tool is missing or its daemon does not answer. */
export interface Versions {
  kopiDocka: string;
  commit: string;
  bun: string;
  kopia: string | null;
  /** Which kopia runs and where it came from (PATH, inside this binary, or the configured path). */
  kopiaPath: string | null;
  kopiaSource: KopiaSource;
  /** The kopia version built into this binary (the full build), or null. */
  kopiaEmbedded: string | null;
  dockerClient: string | null;
  dockerServer: string | null;
  /** The compose `restore --start` would run (`docker compose` or `docker-compose`) and its version. */
  compose: { command: string; version: string } | null;
}

/**
 * The versions of kopi-docka and of the tools it drives. Neither tool being absent is an error here;
 * a kopia that cannot be chosen (say "embedded" in a slim build) reads as missing.
 */
export async function readVersions(
  deps: { docker: Docker; kopiaChoice: () => Promise<KopiaChoice> },
  self: { version: string; commit: string },
): Promise<Versions> {
  const kopia = await deps.kopiaChoice().catch(() => undefined);
  const docker = await deps.docker.version().catch(() => undefined);
  const compose = await deps.docker.composeVersion().catch(() => undefined);
  return {
    kopiDocka: self.version,
    commit: self.commit,
    bun: Bun.version,
    kopia: kopia?.version ?? null,
    kopiaPath: kopia?.path ?? null,
    kopiaSource: kopia?.source ?? "missing",
    kopiaEmbedded: kopia?.embedded?.version ?? null,
    dockerClient: docker?.client ?? null,
    dockerServer: docker?.server ?? null,
    compose: compose ? { command: compose.command.join(" "), version: compose.version } : null,
  };
}

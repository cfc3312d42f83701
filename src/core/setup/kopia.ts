import { resolvePaths } from "../../config/resolve.ts";
import { type Config, ConfigSchema } from "../../config/schema.ts";
import { chooseKopia, type KopiaChoice, type KopiaChoiceDeps } from "../kopia/binary.ts";
import { extractedKopiaPath } from "../kopia/embedded.ts";
import type { Runner } from "../process/runner.ts";

/**
 * Which kopia setup runs: the config being written (its `kopia.binary` and state dir; the defaults
 * while it is not known yet), and, for tests, the embedded kopia and PATH `chooseKopia` would see.
 */
export interface SetupKopia {
  config?: Config;
  seams?: Pick<KopiaChoiceDeps, "embedded" | "which" | "extract">;
}

function choose(runner: Runner, k: SetupKopia, peek: boolean, extractInto?: string): Promise<KopiaChoice> {
  const config = k.config ?? ConfigSchema.parse({});
  return chooseKopia(config.kopia.binary, {
    runner,
    stateDir: extractInto ?? resolvePaths(config).stateDir,
    ...k.seams,
    // Looking is not using: the dependency step names the embedded kopia without writing it out.
    ...(peek ? { extract: async (dir: string, info) => extractedKopiaPath(dir, info.version) } : {}),
  });
}

/**
 * The kopia every later command will run (`chooseKopia`, as `needs` resolves it), for setup's
 * dependency step: nothing is extracted, since nothing is written before the last answer.
 */
export function peekKopia(runner: Runner, k: SetupKopia = {}): Promise<KopiaChoice> {
  return choose(runner, k, true);
}

/**
 * argv[0] for setup's own kopia calls (the password probe, the commit): the same choice, resolved on
 * first call and remembered; a full binary's kopia is extracted into the state dir then, where every
 * later command finds it.
 */
export function setupKopiaBinary(
  runner: Runner,
  k: SetupKopia = {},
  /** A throwaway directory to extract into instead (a probe before anything is committed). */
  extractInto?: string,
): () => Promise<string> {
  let choice: Promise<KopiaChoice> | undefined;
  return async () => {
    choice ??= choose(runner, k, false, extractInto);
    return (await choice).command;
  };
}

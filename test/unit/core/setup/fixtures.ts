import { join } from "node:path";
import { ConfigSchema } from "../../../../src/config/schema.ts";
import { answersFromFlags } from "../../../../src/core/setup/flags.ts";
import type { SetupKopia } from "../../../../src/core/setup/kopia.ts";
import type { SetupAnswers } from "../../../../src/core/setup/model.ts";

/** The kopia inside a full build, as `chooseKopia` sees it. */
export const EMBEDDED = { version: "0.23.1", sha256: "0".repeat(64) };

/** A full build on a host with no kopia on PATH; extracting fails the test (a step that only looks). */
export function fullBuildNoPath(): NonNullable<SetupKopia["seams"]> {
  return {
    embedded: EMBEDDED,
    which: () => null,
    extract: async () => {
      throw new Error("extracted while only looking");
    },
  };
}

/** The same host where kopia is extracted on use: `path` is the file setup's kopia calls must run. */
export function embeddedOnly(stateDir: string) {
  const path = join(stateDir, "bin", `kopia-${EMBEDDED.version}`);
  const seams: NonNullable<SetupKopia["seams"]> = {
    embedded: EMBEDDED,
    which: () => null,
    extract: async (dir, info) => join(dir, "bin", `kopia-${info.version}`),
  };
  return { path, seams };
}

/** `setup --yes` answers whose every path lies under `d`; the password file `d/pw` must exist first. */
export function setupAnswers(d: string, password: "existing" | "generate" = "existing"): SetupAnswers {
  return answersFromFlags(
    {
      keep: {},
      paths: {
        state_dir: join(d, "state"),
        cache_dir: join(d, "cache"),
        lock_file: join(d, "l"),
        restore_dir: join(d, "r"),
      },
      repositoryPath: join(d, "repo"),
      passwordFile: join(d, "pw"),
      generatePassword: password === "generate",
      yes: true,
    },
    ConfigSchema.parse({}),
    { configPath: join(d, "etc", "config.toml"), configExists: false },
  ).answers;
}

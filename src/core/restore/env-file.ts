import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ownedTempDir } from "../process/temp-dirs.ts";
import type { Lifecycle } from "../safe-exit.ts";

export interface EnvFiles {
  /** Writes `KEY=value` lines to a new 0600 file and returns its path. */
  write(entries: readonly string[]): string;
  /** Removes the directory and every file in it (the compensation, run now). */
  remove(): Promise<void>;
}

/**
 * Env files for `docker run --env-file`, the only way a container's env reaches docker: no value is
 * ever in argv (`ps` shows argv to every user) or in a logged command. They live in a private
 * directory (0700, files 0600) under the system temp dir, never under the state or cache dirs, and a
 * compensation removes it however the restore ends.
 */
export function privateEnvFiles(lifecycle: Lifecycle): EnvFiles {
  const { dir, remove } = ownedTempDir(lifecycle, "env");
  let count = 0;
  return {
    write(entries) {
      count += 1;
      const file = join(dir, `${count}.env`);
      writeFileSync(file, entries.map((e) => `${e}\n`).join(""), { mode: 0o600, flag: "wx" });
      return file;
    },
    remove,
  };
}

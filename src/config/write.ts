import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { writeFileAtomic } from "../core/durable.ts";
import { UsageError } from "../core/errors.ts";
import { CONFIG_TEMPLATE } from "./template.ts";

/**
 * Writes a config file (0600). Refuses to replace an existing file unless forced; when forced, the old
 * file is kept beside it as `<file>.bak-<time>`. Temp file, fsync, rename: a crash never leaves half a file.
 */
export function writeConfigText(
  target: string,
  text: string,
  force: boolean,
  now = new Date(),
): { backup?: string } {
  let backup: string | undefined;
  if (existsSync(target)) {
    if (!force)
      throw new UsageError(`${target} already exists`, "pass --force to replace it (the old file is kept)");
    backup = `${target}.bak-${now.toISOString().replace(/[:.]/g, "-")}`;
    copyFileSync(target, backup);
  }
  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  writeFileAtomic(target, text, 0o600);
  return { backup };
}

/** The commented default config (`config init`). */
export function writeConfigTemplate(target: string, force: boolean, now = new Date()): { backup?: string } {
  return writeConfigText(target, CONFIG_TEMPLATE, force, now);
}

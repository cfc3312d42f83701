import { copyFileSync, existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { UsageError } from "../core/errors.ts";
import { CONFIG_TEMPLATE } from "./template.ts";

/**
 * Writes the commented default config. Refuses to replace an existing file unless forced; when forced,
 * the old file is kept beside it. Written to a temp file and renamed, so a crash never leaves half a file.
 */
export function writeConfigTemplate(target: string, force: boolean, now = new Date()): { backup?: string } {
  let backup: string | undefined;
  if (existsSync(target)) {
    if (!force)
      throw new UsageError(`${target} already exists`, "pass --force to replace it (the old file is kept)");
    backup = `${target}.bak-${now.toISOString().replace(/[:.]/g, "-")}`;
    copyFileSync(target, backup);
  }
  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  const tmp = `${target}.tmp-${process.pid}`;
  writeFileSync(tmp, CONFIG_TEMPLATE, { mode: 0o600 });
  renameSync(tmp, target);
  return { backup };
}

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { errnoCode } from "../caught.ts";
import { fsyncDir, writeFileAtomic } from "../durable.ts";

/**
 * Which units may have a warm snapshot no run has checked: one fsync'd file per unit in
 * `<journal dir>/warm/`, written before a warm pass starts and removed once every warm snapshot of it
 * is checked or deleted. A run killed in between (SIGKILL, power loss) leaves the file. kopia takes
 * such a snapshot as the base of the source's next snapshot, whatever that run's mode: a file it read
 * while it was being rewritten would then be taken from it unread. `warm-then-cold` deletes leftovers
 * every run; a unit switched to another mode deletes them only while this file says there may be some,
 * so no other run pays a snapshot listing for it.
 */
export function warmPendingDir(journalDir: string): string {
  return join(journalDir, "warm");
}

// Unit names are untrusted: the file is named by their hash.
const fileOf = (journalDir: string, unit: string) =>
  join(warmPendingDir(journalDir), `${createHash("sha256").update(unit).digest("hex").slice(0, 32)}.json`);

/** Durable when it returns: only then may a warm pass start. Throws when it cannot be written. */
export function markWarmPending(journalDir: string, unit: string): void {
  const dir = warmPendingDir(journalDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  fsyncDir(dirname(dir));
  writeFileAtomic(
    fileOf(journalDir, unit),
    `${JSON.stringify({ unit, since: new Date().toISOString() })}\n`,
    0o600,
  );
}

export function isWarmPending(journalDir: string, unit: string): boolean {
  return existsSync(fileOf(journalDir, unit));
}

/** Every warm snapshot of the unit is checked or gone. Throws only for an error other than "not there". */
export function clearWarmPending(journalDir: string, unit: string): void {
  try {
    unlinkSync(fileOf(journalDir, unit));
    fsyncDir(warmPendingDir(journalDir));
  } catch (e) {
    if (errnoCode(e) !== "ENOENT") throw e;
  }
}

import { chmodSync, existsSync, linkSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { AppError } from "../errors.ts";

/** The binary that was replaced, kept beside it for `upgrade --rollback`. */
export const previousPath = (target: string) => `${target}.previous`;

/** Where the new binary is staged beside `target` (same filesystem). */
export const stagedPath = (target: string) => `${target}.new-${process.pid}`;

/**
 * Writes the new binary at `stagedPath` (0755), ready to be renamed over `target`. Created
 * exclusively: a file or symlink someone left at that name is refused, never written through.
 */
export function stageBinary(target: string, bytes: Uint8Array): string {
  const tmp = stagedPath(target);
  writeFileSync(tmp, bytes, { mode: 0o755, flag: "wx" });
  chmodSync(tmp, 0o755);
  return tmp;
}

/**
 * Renames the staged file over `target`, so the path always holds a whole binary and a running
 * process keeps its old inode. The replaced file is kept as `<target>.previous` (hard link first).
 */
export function commitBinary(staged: string, target: string): void {
  keepPrevious(target);
  renameSync(staged, target);
}

function keepPrevious(target: string): void {
  if (!existsSync(target)) return;
  const tmp = `${previousPath(target)}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  linkSync(target, tmp);
  renameSync(tmp, previousPath(target));
}

/**
 * Swaps `<target>.previous` back in; the binary it replaces becomes the new `.previous`, so a second
 * rollback undoes the first.
 */
export function rollbackBinary(target: string): void {
  const previous = previousPath(target);
  if (!existsSync(previous)) {
    throw new AppError("not_found", `no previous binary at ${previous}`, {
      hint: "`upgrade --rollback` needs an earlier `kopi-docka upgrade` to have kept one",
    });
  }
  const tmp = `${previous}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  linkSync(target, tmp);
  renameSync(previous, target);
  renameSync(tmp, previous);
}

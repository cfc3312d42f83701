import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";
import { deadStamp, processStamp, removeOwnPrivateDir } from "./temp-dirs.ts";

/**
 * The stage `swapIn` writes a target's new data into, beside it: `.<name>.kd-restore-<processStamp>-XXXXXX`
 * (0700). A restore killed outright (SIGKILL, power cut) leaves it, partial data and maybe the old
 * data in it: the next restore of that target removes the dead runs' stages beside it, and so does
 * the heal and `recover`, from the record each stage has in `<journalDir>/restore-stages` meanwhile.
 * Only a private directory of ours, never a symlink, whose name is that target's stage of a process
 * of this pid namespace that no longer runs is ever removed.
 */

const stagePrefix = (target: string) => `.${basename(target)}.kd-restore-`;
const recordsDir = (journalDir: string) => join(journalDir, "restore-stages");
const RECORD = ".json";

/** A new stage beside `target`, recorded first when `journalDir` is given; `remove` removes both. */
export function makeStage(target: string, journalDir?: string): { path: string; remove: () => void } {
  let record: string | undefined;
  if (journalDir) {
    mkdirSync(recordsDir(journalDir), { recursive: true, mode: 0o700 });
    const suffix = Math.random().toString(36).slice(2, 8).padEnd(6, "0");
    record = join(recordsDir(journalDir), `${processStamp()}-${suffix}${RECORD}`);
    writeFileSync(record, JSON.stringify({ target }), { mode: 0o600 });
  }
  sweepDeadStages(target);
  const path = mkdtempSync(join(dirname(target), `${stagePrefix(target)}${processStamp()}-`));
  return {
    path,
    remove: () => {
      rmSync(path, { recursive: true, force: true });
      if (record) rmSync(record, { force: true });
    },
  };
}

/** Removes the stages dead runs left beside `target`; their paths. Never throws. */
export function sweepDeadStages(target: string): string[] {
  const prefix = stagePrefix(target);
  let names: string[];
  try {
    names = readdirSync(dirname(target));
  } catch {
    return [];
  }
  // Killed between its two renames, a run left the target absent and its old data in `old`: that
  // stage is the only copy here, so it stays for someone to look at.
  const targetGone = !lstatSync(target, { throwIfNoEntry: false });
  return names
    .filter((n) => n.startsWith(prefix) && deadStamp(n.slice(prefix.length)))
    .map((n) => join(dirname(target), n))
    .filter((p) => !(targetGone && lstatSync(join(p, "old"), { throwIfNoEntry: false })))
    .filter(removeOwnPrivateDir);
}

/**
 * For the heal and `recover`: the stages of each dead run's records removed, then the records. A live
 * run's records are its own. The stages removed; never throws (a leftover is only clutter).
 */
export function sweepRecordedStages(journalDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(recordsDir(journalDir)).filter((n) => n.endsWith(RECORD));
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!deadStamp(name.slice(0, -RECORD.length))) continue;
    const file = join(recordsDir(journalDir), name);
    try {
      const target = (JSON.parse(readFileSync(file, "utf8")) as { target?: unknown }).target;
      if (typeof target === "string" && isAbsolute(target)) removed.push(...sweepDeadStages(target));
    } catch {
      // Unreadable: nothing it names can be found; the record goes all the same.
    }
    rmSync(file, { force: true });
  }
  return removed;
}

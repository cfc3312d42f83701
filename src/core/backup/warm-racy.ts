import { errorMessage } from "../caught.ts";
import type { Kopia } from "../kopia/kopia.ts";
import { type DirEntry, type DirectoryObject, isObjectId, MAX_FIX_OBJECT_IDS } from "../kopia/objects.ts";

/**
 * The entries of a warm snapshot the cold pass must not take from it: those that may have changed
 * after the warm pass read them, with nothing the cold pass could see.
 *
 * kopia reuses an entry of a previous snapshot when its mtime (ns), size, mode and owner are unchanged
 * (kopia.md §5); it records the mtime of its lstat, before it reads the file. A write that lands after
 * that lstat, within the same timestamp tick and with the same size, leaves that recorded mtime in
 * place: the cold pass would take the warm pass's (old or torn) content. Such a recorded mtime is within
 * one tick of the write, which came after the lstat, which came after the warm pass started: it is at
 * or after `warmStart - RACY_MARGIN_MS`, the margin being far above any tick. Every other write, one
 * in a later tick, changes the mtime and the cold pass reads the file again anyway. So removing every
 * non-directory entry whose recorded mtime is at or after that threshold from the warm snapshot is
 * enough: the cold pass then reads exactly those again. Directories are always listed by kopia and never
 * taken from a base; one whose newest mtime below (`summ.maxTime`) is older holds no such entry.
 * Not covered, as nowhere in kopia: an mtime set back on purpose, and a write through a shared mmap to
 * a page already dirty when the warm pass read it (Linux sets the mtime at the first write after each
 * writeback only): README, "Backup modes".
 */

/** Most directory objects read per warm snapshot; more means the fallback (a cold pass from the last cold). */
export const MAX_RACY_DIRECTORIES = 200;
/** Most entries removed from one warm snapshot (also bounds the argv of `snapshot fix`). */
export const MAX_RACY_FILES = MAX_FIX_OBJECT_IDS;
/** `kopia show` calls side by side within one level of the tree. */
const SHOW_PARALLEL = 4;

/** kopia's RFC 3339 UTC time with up to 9 fraction digits, as ms (floored); undefined when malformed. Pure. */
export function kopiaTimeMs(s: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(s);
  if (!m) return undefined;
  // Floored to the ms: against a whole-ms threshold `floor(t) >= x` is exactly `t >= x`.
  const ms = Date.parse(`${m[1]}.${(m[2] ?? "").padEnd(3, "0").slice(0, 3)}Z`);
  return Number.isFinite(ms) ? ms : undefined;
}

export type Selection =
  | { ok: true; suspects: DirEntry[]; descend: DirEntry[] }
  | { ok: false; reason: string };

/** Of one directory object: the suspect entries and the subdirectories that may hold more. Pure. */
export function selectRacy(dir: DirectoryObject, thresholdMs: number): Selection {
  const suspects: DirEntry[] = [];
  const descend: DirEntry[] = [];
  for (const e of dir.entries) {
    if (!isObjectId(e.obj)) return { ok: false, reason: "kopia printed a malformed object ID" };
    if (e.type === "d") {
      const newest = kopiaTimeMs(e.summ?.maxTime ?? "");
      if (newest === undefined) return { ok: false, reason: "a directory without its newest mtime" };
      if (newest >= thresholdMs) descend.push(e);
      continue;
    }
    // kopia leaves out an mtime at the Unix epoch (omitempty): that is what it compares against.
    const mtime = e.mtime === undefined ? 0 : kopiaTimeMs(e.mtime);
    if (mtime === undefined) return { ok: false, reason: "an entry with a malformed mtime" };
    if (mtime >= thresholdMs) suspects.push(e);
  }
  return { ok: true, suspects, descend };
}

export type RacyScan =
  | { ok: true; objectIds: string[]; files: number; directories: number }
  | { ok: false; reason: string };

/**
 * Walks a warm snapshot from its root directory object, level by level, into the subdirectories
 * whose newest mtime is at or after `thresholdMs`, and collects the suspect entries' object IDs
 * (`selectRacy`). Never throws: a failed `show`, an output of another shape, or more than the caps
 * is `ok: false` with the reason. `onSuspect` gets each entry's path (untrusted names, for debug logs).
 */
export async function findRacyFiles(
  kopia: Pick<Kopia, "showDirectory">,
  rootObject: string,
  thresholdMs: number,
  o: { signal?: AbortSignal; onSuspect?: (path: string) => void },
): Promise<RacyScan> {
  const objectIds = new Set<string>();
  let files = 0;
  let directories = 0;
  let level = [{ path: "", obj: rootObject }];
  try {
    while (level.length > 0) {
      if (directories + level.length > MAX_RACY_DIRECTORIES)
        return { ok: false, reason: `changes in more than ${MAX_RACY_DIRECTORIES} directories` };
      directories += level.length;
      const next: typeof level = [];
      for (let i = 0; i < level.length; i += SHOW_PARALLEL) {
        const batch = level.slice(i, i + SHOW_PARALLEL);
        const read = await Promise.all(batch.map((d) => kopia.showDirectory(d.obj, { signal: o.signal })));
        for (const [k, dir] of read.entries()) {
          const sel = selectRacy(dir, thresholdMs);
          if (!sel.ok) return sel;
          const at = batch[k]?.path ?? "";
          for (const e of sel.suspects) {
            objectIds.add(e.obj);
            o.onSuspect?.(`${at}${e.name}`);
          }
          files += sel.suspects.length;
          if (files > MAX_RACY_FILES)
            return { ok: false, reason: `more than ${MAX_RACY_FILES} files changed` };
          for (const e of sel.descend) next.push({ path: `${at}${e.name}/`, obj: e.obj });
        }
      }
      level = next;
    }
  } catch (e) {
    return { ok: false, reason: errorMessage(e) };
  }
  return { ok: true, objectIds: [...objectIds], files, directories };
}

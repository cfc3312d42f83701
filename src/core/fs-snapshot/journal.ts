import { mkdirSync, readdirSync, readFileSync, unlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { z } from "zod";
import { errnoCode, errorMessage } from "../caught.ts";
import { fsyncDir, writeFileAtomic } from "../durable.ts";
import { processStartTime } from "../lock/owner.ts";
import { isOurSnapshot } from "./driver.ts";
import { FsSnapshotError } from "./errors.ts";

/**
 * The filesystem snapshots a run has made, one fsync'd file each in `<journal dir>/fs-snapshots/`,
 * written before the snapshot is taken (again once it is known) and removed after it is deleted: a
 * run that dies in between (SIGKILL, power loss), or gives up on a snapshot btrfs does not finish,
 * leaves the file, and recovery (`recover.ts`) deletes the snapshot it names.
 */
export const FsSnapshotEntrySchema = z.object({
  runId: z.string().min(1),
  pid: z.number().int().positive(),
  pidStartTime: z.number().int().nonnegative().nullable(),
  driver: z.literal("btrfs"),
  /** The snapshot's path; `isOurSnapshot` holds for it. */
  snapshot: z.string().refine(isOurSnapshot, "not a kopi-docka snapshot path"),
  /** The volume it froze. */
  volume: z.string().min(1),
  createdAt: z.string().min(1),
  /**
   * What tells the snapshot apart before its identity is read (the run killed, or btrfs stuck in the
   * kernel): the one snapshot of `volumeUuid` with an id above `newerThan`. Written before it is taken.
   */
  made: z
    .object({
      volumeUuid: z.string().min(1),
      newerThan: z.number().int().nonnegative(),
      mount: z.string().startsWith("/"),
    })
    .optional(),
  /** The snapshot as its filesystem knows it, written once it exists: removed by that, not by path. */
  identity: z
    .object({
      id: z.number().int().min(256),
      uuid: z.string().min(1),
      mount: z.string().startsWith("/"),
      generation: z.number().int().nonnegative().default(0),
    })
    .optional(),
});
export type FsSnapshotEntry = z.infer<typeof FsSnapshotEntrySchema>;
/** What a run journals; the process and the time are added. */
export type FsSnapshotRecord = Omit<
  z.input<typeof FsSnapshotEntrySchema>,
  "pid" | "pidStartTime" | "createdAt"
>;

/** The snapshot journal's directory, inside the restart journal's (whose reader takes only its own files). */
export function fsSnapshotJournalDir(journalDir: string): string {
  return join(journalDir, "fs-snapshots");
}

const fileOf = (dir: string, snapshot: string) => join(dir, `${basename(snapshot)}.json`);

/** Durable when it returns: only then may the snapshot be taken. */
export function recordSnapshot(dir: string, e: FsSnapshotRecord): void {
  const entry = FsSnapshotEntrySchema.parse({
    ...e,
    pid: process.pid,
    pidStartTime: processStartTime(process.pid) ?? null,
    createdAt: new Date().toISOString(),
  });
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    fsyncDir(dirname(dir));
    writeFileAtomic(fileOf(dir, entry.snapshot), `${JSON.stringify(entry, null, 2)}\n`, 0o600);
  } catch (e) {
    throw new FsSnapshotError(`snapshot journal ${dir}: ${errorMessage(e)}`, e);
  }
}

/** Forgets a snapshot that is gone (or was never made). */
export function clearSnapshot(dir: string, snapshot: string): void {
  try {
    unlinkSync(fileOf(dir, snapshot));
    fsyncDir(dir);
  } catch (e) {
    if (errnoCode(e) !== "ENOENT")
      throw new FsSnapshotError(`snapshot journal ${dir}: ${errorMessage(e)}`, e);
  }
}

/** Every valid entry; an unreadable or foreign file is reported by `bad` and left alone. */
export function snapshotEntries(dir: string, bad: (file: string, why: string) => void): FsSnapshotEntry[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".json"));
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return [];
    throw new FsSnapshotError(`snapshot journal ${dir}: ${errorMessage(e)}`, e);
  }
  const out: FsSnapshotEntry[] = [];
  for (const name of names) {
    const file = join(dir, name);
    try {
      const r = FsSnapshotEntrySchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
      if (r.success && fileOf(dir, r.data.snapshot) === file) out.push(r.data);
      else bad(file, r.success ? "its name does not match its snapshot" : (r.error.issues[0]?.message ?? ""));
    } catch (e) {
      if (errnoCode(e) !== "ENOENT") bad(file, errorMessage(e));
    }
  }
  return out;
}

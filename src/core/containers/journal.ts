import { mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { errnoCode, errorMessage } from "../caught.ts";
import { fsyncDir, writeAndSync } from "../durable.ts";
import { AppError } from "../errors.ts";
import { isProcessAlive, processStartTime } from "../lock/owner.ts";

/**
 * The restart journal: one small file per container a run is about to stop, written and fsync'd (file
 * and directory) before `docker stop`, removed after the container is running again. If the run dies
 * in between, even by SIGKILL or power loss, `recover` finds the file and starts the container.
 */
export const JournalEntrySchema = z.object({
  runId: z.string().min(1),
  /** The pid of the run that stopped the container. */
  pid: z.number().int().positive(),
  /** That process's start time (/proc/<pid>/stat field 22); filled in by `record` when absent. */
  pidStartTime: z.number().int().nonnegative().nullable().optional(),
  unit: z.string(),
  containerId: z.string().min(1),
  containerName: z.string(),
  /** ISO time the stop was recorded (just before `docker stop`). */
  stoppedAt: z.string().min(1),
  /** The container's State.StartedAt before the stop: if it changed, someone else started it since. */
  startedAt: z.string().min(1),
  /**
   * The `docker stop` timeout, seconds: until the record plus this (and a grace) the daemon may still
   * be stopping it after the run died (`stop-in-flight.ts`). Absent in older entries and a restore's.
   */
  stopTimeout: z.number().int().positive().optional(),
  /**
   * It was paused (`docker pause`) when it was stopped: the run pauses it again once it runs; a
   * recovery, which starts it without waiting for it, says so instead.
   */
  paused: z.boolean().optional(),
  /**
   * Set by a restore once it replaces the container's data: why recovery must leave it stopped (it may
   * hold half-restored data), and what to do. Said at every recovery until someone starts or removes it.
   */
  hold: z.string().optional(),
  /**
   * The restart policy the container had when the restore held it, saved (durably) before it was set
   * to `no`, so docker's own restarts (`always` at daemon start) cannot bring up half-restored data
   * either. Put back before the entry is cleared (`held-policy.ts`).
   */
  heldPolicy: z.object({ name: z.string(), maximumRetryCount: z.number().int().nonnegative() }).optional(),
  /**
   * Set by a restore on a container it did not stop: it was stopped already, yet uses the data being
   * replaced, so it is held all the same. Nothing of kopi-docka's stopped it, so when the hold ends
   * nothing starts it either (`recover.ts`): only a person, or `restore --start`.
   */
  alreadyStopped: z.literal(true).optional(),
});

export type JournalEntry = z.infer<typeof JournalEntrySchema>;

export interface Journal {
  readonly dir: string;
  /** Durable when it returns: only then may the caller stop the container. */
  record(entry: JournalEntry): void;
  /** Removes the entry (the container runs again, or is not ours to start). */
  clear(runId: string, containerId: string): void;
  /** Every readable entry, oldest stop first. Corrupt files are moved aside with a warning. */
  entries(): JournalEntry[];
  /** True if any entry file exists; reads no file contents (cheap check at start-up). */
  hasEntries(): boolean;
}

export interface JournalOptions {
  warn?: (message: string) => void;
}

const SUFFIX = ".json";
/** Temp files older than this belong to a run that died before its record was durable. */
const STALE_TEMP_MS = 60 * 60 * 1000;

export function entryFileName(runId: string, containerId: string): string {
  return `${safe(runId)}--${safe(containerId)}${SUFFIX}`;
}

export function createJournal(dir: string, options: JournalOptions = {}): Journal {
  const warn = options.warn ?? ((m: string) => process.stderr.write(`kopi-docka: ${m}\n`));
  const ensureDir = () => {
    try {
      statSync(dir);
    } catch {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      fsyncDir(dirname(dir));
    }
  };
  const list = (): string[] => {
    try {
      return readdirSync(dir).filter((n) => n.endsWith(SUFFIX));
    } catch (e) {
      if (errnoCode(e) === "ENOENT") return [];
      throw journalError(dir, e);
    }
  };

  return {
    dir,
    record(entry) {
      const parsed = JournalEntrySchema.parse({
        ...entry,
        pidStartTime: entry.pidStartTime ?? processStartTime(entry.pid) ?? null,
      });
      ensureDir();
      const file = join(dir, entryFileName(parsed.runId, parsed.containerId));
      const tmp = `${file}.${process.pid}.tmp`;
      try {
        writeAndSync(openSync(tmp, "w", 0o600), `${JSON.stringify(parsed, null, 2)}\n`);
        renameSync(tmp, file);
        fsyncDir(dir);
      } catch (e) {
        try {
          unlinkSync(tmp);
        } catch {
          // never created
        }
        throw journalError(dir, e);
      }
    },

    clear(runId, containerId) {
      try {
        unlinkSync(join(dir, entryFileName(runId, containerId)));
        fsyncDir(dir);
      } catch (e) {
        if (errnoCode(e) !== "ENOENT") throw journalError(dir, e);
      }
    },

    entries() {
      const out: JournalEntry[] = [];
      for (const name of list()) {
        const file = join(dir, name);
        let raw: string;
        try {
          raw = readFileSync(file, "utf8");
        } catch (e) {
          if (errnoCode(e) === "ENOENT") continue; // cleared meanwhile
          warn(`restart journal: cannot read ${file}: ${errorMessage(e)}`);
          continue;
        }
        const entry = parseEntry(raw);
        if (entry) out.push(entry);
        else quarantine(file, warn);
      }
      removeStaleTemps(dir);
      return out.sort(
        (a, b) => time(a.stoppedAt) - time(b.stoppedAt) || a.stoppedAt.localeCompare(b.stoppedAt),
      );
    },

    hasEntries() {
      return list().length > 0;
    },
  };
}

/**
 * The journal as it is, changing nothing (for `doctor`, which must stay read-only): the valid entries,
 * and the files that are not (`entries()` moves those aside). A directory it cannot read throws.
 */
export function peekJournal(dir: string): { entries: JournalEntry[]; invalid: string[] } {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(SUFFIX));
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return { entries: [], invalid: [] };
    throw journalError(dir, e);
  }
  const entries: JournalEntry[] = [];
  const invalid: string[] = [];
  for (const name of names) {
    let raw: string;
    try {
      raw = readFileSync(join(dir, name), "utf8");
    } catch (e) {
      if (errnoCode(e) === "ENOENT") continue; // cleared meanwhile
      throw journalError(dir, e);
    }
    const entry = parseEntry(raw);
    if (entry) entries.push(entry);
    else invalid.push(join(dir, name));
  }
  return { entries, invalid };
}

function time(iso: string): number {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
}

function parseEntry(raw: string): JournalEntry | undefined {
  try {
    const r = JournalEntrySchema.safeParse(JSON.parse(raw));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

function quarantine(file: string, warn: (m: string) => void): void {
  const aside = `${file}.corrupt-${Date.now()}`;
  try {
    renameSync(file, aside);
    warn(`restart journal: ${file} is not a valid entry; moved it to ${aside} (check that container)`);
  } catch (e) {
    warn(`restart journal: ${file} is not a valid entry and could not be moved aside: ${String(e)}`);
  }
}

function removeStaleTemps(dir: string): void {
  try {
    for (const name of readdirSync(dir)) {
      if (!name.endsWith(".tmp")) continue;
      const file = join(dir, name);
      // `<entry>.<pid>.tmp`: a writer killed between write and rename (SIGKILL, OOM) never issued its
      // `docker stop` (the entry is renamed into place first), so its temp is garbage at once.
      const pid = Number(name.slice(0, -".tmp".length).split(".").pop());
      const orphaned = pid !== process.pid && !isProcessAlive(pid);
      if (orphaned || Date.now() - statSync(file).mtimeMs > STALE_TEMP_MS) unlinkSync(file);
    }
  } catch {
    // best effort
  }
}

/** File-name safe: docker ids are hex, run ids are ours; anything else is replaced. */
function safe(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]/g, "_");
}

function journalError(dir: string, e: unknown): AppError {
  return new AppError("backup_failed", `restart journal ${dir}: ${errorMessage(e)}`, {
    hint: "the journal must be writable before any container is stopped (check state_dir)",
    cause: e,
  });
}

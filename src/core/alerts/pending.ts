import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { ResolvedPaths } from "../../config/resolve.ts";
import { errnoCode, errorMessage } from "../caught.ts";
import { writeFileAtomic } from "../durable.ts";
import { deadStamp, processStamp } from "../process/temp-dirs.ts";

/**
 * The store of undelivered alerts: one 0600 file per alert and target in a 0700 directory,
 * `<target id>-<from, ms>-<random>.json`. One file each, so two processes that send (the backup, the
 * hourly `check-freshness`) never lose each other's writes; an entry is sent by whoever renames it to
 * `<file>.sending-<process>` first, so it never reaches a target twice. Policy is in `retry.ts`.
 */
export const pendingDir = (paths: ResolvedPaths) => join(paths.stateDir, "alerts", "pending");

const MessageSchema = z.object({
  event: z.enum(["run", "preflight", "missed", "test"]),
  severity: z.enum(["info", "warning", "failure", "urgent"]),
  title: z.string(),
  body: z.string(),
  data: z.record(z.string(), z.unknown()),
});

const PendingSchema = z.strictObject({
  /** `Target.id`: the digest of the URL, never the URL. */
  target: z.string().regex(/^[0-9a-f]{16}$/),
  /** The masked URL, for the log. */
  label: z.string(),
  /** When the run (or check) that made the message began, ISO. */
  from: z.iso.datetime(),
  /** Why the first delivery failed (scrubbed). */
  error: z.string().optional(),
  message: MessageSchema,
});
export type PendingAlert = z.infer<typeof PendingSchema>;

export interface PendingEntry {
  file: string;
  alert: PendingAlert;
}

const ENTRY = /^([0-9a-f]{16})-(\d{13})-[0-9a-f]{8}\.json$/;
const CLAIM = /^(.+\.json)\.sending-(.+)$/;

/** Writes one entry (atomic, 0600; the directory 0700). Throws: the caller warns. */
export function writePending(dir: string, alert: PendingAlert): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stamp = String(Date.parse(alert.from)).padStart(13, "0");
  const file = join(dir, `${alert.target}-${stamp}-${randomBytes(4).toString("hex")}.json`);
  writeFileAtomic(file, `${JSON.stringify(alert, null, 2)}\n`, 0o600);
  return file;
}

/**
 * Every entry, oldest first. Never throws. A claim whose process is gone (killed mid-send) is put
 * back first. A file that cannot be read or is no entry is set aside as `<file>.corrupt` (kept for a
 * person to read, never read again); each such thing, and a directory that cannot be read, is a
 * `problem` for the caller to warn about.
 */
export function readPending(dir: string): { entries: PendingEntry[]; problems: string[] } {
  const problems: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if (errnoCode(e) === "ENOENT") return { entries: [], problems };
    return { entries: [], problems: [`undelivered alerts in ${dir} not read: ${errorMessage(e)}`] };
  }
  for (const name of names) {
    const claim = CLAIM.exec(name);
    if (claim?.[1] && deadStamp(claim[2] ?? "")) {
      try {
        renameSync(join(dir, name), join(dir, claim[1]));
        names.push(claim[1]);
      } catch {
        // Put back (or removed) by another process meanwhile.
      }
    }
  }
  const entries: PendingEntry[] = [];
  for (const name of [...new Set(names)].filter((n) => n.endsWith(".json")).sort(byTime)) {
    const file = join(dir, name);
    const alert = readEntry(file, name);
    if (alert === undefined) continue; // claimed or deleted by another process since the listing
    if (typeof alert === "string") problems.push(setAside(file, alert));
    else entries.push({ file, alert });
  }
  return { entries, problems };
}

/** Oldest first by the `from` stamp in the name; a name of another shape sorts last. */
function byTime(a: string, b: string): number {
  const t = (n: string) => ENTRY.exec(n)?.[2] ?? "9";
  return t(a).localeCompare(t(b)) || a.localeCompare(b);
}

/** The entry, what is wrong with it, or undefined when it is gone. */
function readEntry(file: string, name: string): PendingAlert | string | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    return errnoCode(e) === "ENOENT" ? undefined : errorMessage(e);
  }
  try {
    const parsed = PendingSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return `not an undelivered alert (${parsed.error.issues[0]?.message ?? "?"})`;
    if (ENTRY.exec(name)?.[1] !== parsed.data.target) return "its name does not match its target";
    return parsed.data;
  } catch (e) {
    return `not JSON (${errorMessage(e)})`;
  }
}

function setAside(file: string, why: string): string {
  try {
    renameSync(file, `${file}.corrupt`);
    return `undelivered alert ${file} unreadable, set aside as ${file}.corrupt: ${why}`;
  } catch (e) {
    return `undelivered alert ${file} unreadable (${why}), and not set aside: ${errorMessage(e)}`;
  }
}

/** Removes an entry. Never throws: one already gone is what was wanted. */
export function removePending(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Gone already (another process dropped or sent it).
  }
}

/**
 * Takes `file` for sending: renamed to `<file>.sending-<this process>`, so no other process sends
 * it too. Undefined when another took it first. `delivered` removes it; `release` puts it back as it
 * was (it stays queued, once).
 */
export function claimPending(file: string): { delivered(): void; release(): void } | undefined {
  const claimed = `${file}.sending-${processStamp()}-${randomBytes(3).toString("hex")}`;
  try {
    renameSync(file, claimed);
  } catch {
    return undefined;
  }
  return {
    delivered: () => removePending(claimed),
    release: () => {
      try {
        renameSync(claimed, file);
      } catch {
        // Left as a claim of this process: the next reader, once this process is gone, puts it back.
      }
    },
  };
}

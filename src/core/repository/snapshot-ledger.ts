import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../durable.ts";
import { AppError } from "../errors.ts";
import { isRecord } from "../guards.ts";
import type { Kopia } from "../kopia/kopia.ts";
import type { SnapshotManifest } from "../kopia/parse.ts";
import { snapshotTags } from "../kopia/parse.ts";
import { tagsProblem } from "../snapshot/validate.ts";
import { FROM_REPLICA, RECOVER_INDEX } from "./integrity.ts";

// The snapshot ledger: this identity's restore and undo point snapshots as the last check found them,
// less those kopi-docka deleted since. A lost index blob can take snapshot manifests with it (their
// data too, when nothing else shares it); kopia then simply lists fewer snapshots, and every check that
// reads what is listed passes. A snapshot in the ledger and not in the repository is such a loss, or a
// deletion by hand: either way a replica sync (`--delete`) or full maintenance must not make it final.

/** `<state_dir>/snapshot-ledger.json`, 0600. */
export function ledgerFile(stateDir: string): string {
  return join(stateDir, "snapshot-ledger.json");
}

/** Whose snapshots the ledger keeps: hosts sharing a repository delete their own. */
export interface LedgerOwner {
  host: string;
  userName: string;
}

/**
 * The ledger's name for a complete snapshot of a point of `owner` (undefined for anything else). Pins
 * rewrite a manifest under a new id, so the id is not part of it.
 */
export function ledgerKey(m: SnapshotManifest, owner: LedgerOwner): string | undefined {
  if (m.incomplete || m.source.host !== owner.host || m.source.userName !== owner.userName) return undefined;
  const t = snapshotTags(m);
  if (!t.unit || !t.backup_id || !t.type || tagsProblem(t)) return undefined;
  const what = t.volume ?? t.bind_source ?? t.dump_container ?? "";
  return `${t.unit}@${t.backup_id} ${t.type}${what ? `:${what}` : ""} ${m.startTime}`;
}

/** The ledger's keys of `manifests`, sorted and without duplicates. */
export function ledgerKeys(manifests: readonly SnapshotManifest[], owner: LedgerOwner): string[] {
  const keys = manifests.map((m) => ledgerKey(m, owner)).filter((k): k is string => k !== undefined);
  return [...new Set(keys)].sort();
}

/** Keys in `known` with no snapshot in `now`. Pure. */
export function vanishedKeys(known: readonly string[], now: readonly string[]): string[] {
  const present = new Set(now);
  return known.filter((k) => !present.has(k));
}

/** The points (`unit@backup_id`) the keys belong to, each once. */
export function pointsOf(keys: readonly string[]): string[] {
  return [...new Set(keys.map((k) => k.split(" ")[0] ?? k))];
}

const ownerName = (o: LedgerOwner) => `${o.userName}@${o.host}`;

/**
 * The ledger's keys, or undefined when there is none yet, or it was kept under another identity (the
 * configured hostname changed: those snapshots are no longer this identity's to watch). Unreadable:
 * an AppError (fail closed).
 */
export function readLedger(stateDir: string, owner: LedgerOwner): string[] | undefined {
  const file = ledgerFile(stateDir);
  if (!existsSync(file)) return undefined;
  try {
    const v: unknown = JSON.parse(readFileSync(file, "utf8"));
    if (isRecord(v) && Array.isArray(v.snapshots) && v.snapshots.every((k) => typeof k === "string"))
      return v.owner === ownerName(owner) ? (v.snapshots as string[]) : undefined;
  } catch {
    // reported below
  }
  throw new AppError("repository", `the snapshot ledger ${file} is unreadable`, {
    hint: `check the repository (\`kopi-docka repo verify\`, \`kopi-docka snapshots\`), then record it as it is: ${ACCEPT}`,
  });
}

export function writeLedger(stateDir: string, owner: LedgerOwner, keys: readonly string[]): void {
  const body = { owner: ownerName(owner), checked_at: new Date().toISOString(), snapshots: keys };
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  writeFileAtomic(ledgerFile(stateDir), `${JSON.stringify(body, null, 1)}\n`, 0o600);
}

/** Whose snapshots a kopia connection records: its host and user names. */
export const ownerOf = (kopia: Pick<Kopia, "options">): LedgerOwner => ({
  host: kopia.options.hostname,
  userName: kopia.options.username,
});

/** The ledger's keys, or undefined when there is none, or it cannot be read (the next check refuses on it). */
function readLedgerQuietly(stateDir: string, owner: LedgerOwner): string[] | undefined {
  try {
    return readLedger(stateDir, owner);
  } catch {
    return undefined;
  }
}

/**
 * Takes `keys` out of the ledger: snapshots kopi-docka deletes, whose absence is then known to be
 * deliberate. No ledger, or an unreadable one, is left as it is.
 */
function forgetKeys(stateDir: string, owner: LedgerOwner, keys: ReadonlySet<string>): void {
  const known = readLedgerQuietly(stateDir, owner);
  if (known && keys.size > 0)
    writeLedger(
      stateDir,
      owner,
      known.filter((k) => !keys.has(k)),
    );
}

/** Before kopi-docka deletes the snapshots among `manifests` whose id is in `ids`: they are forgotten. */
export function forgetDeleted(
  stateDir: string,
  manifests: readonly SnapshotManifest[],
  ids: readonly string[],
  owner: LedgerOwner,
): void {
  const wanted = new Set(ids);
  forgetKeys(
    stateDir,
    owner,
    new Set(
      ledgerKeys(
        manifests.filter((m) => wanted.has(m.id)),
        owner,
      ),
    ),
  );
}

/**
 * Runs `fn`, a person's own kopia command, and forgets what it deleted: deleted on purpose through
 * kopi-docka (`kopi-docka kopia -- snapshot delete …`), not lost. Without a ledger, or when a listing
 * fails, only `fn` runs.
 */
export async function forgetWhatItDeletes<T>(
  kopia: Kopia,
  stateDir: string,
  fn: () => Promise<T>,
): Promise<T> {
  const owner = ownerOf(kopia);
  const keys = async () => ledgerKeys(await kopia.snapshotList(), owner);
  const before = readLedgerQuietly(stateDir, owner) ? await keys().catch(() => undefined) : undefined;
  try {
    return await fn();
  } finally {
    if (before) {
      const after = await keys().catch(() => undefined);
      if (after) forgetKeys(stateDir, owner, new Set(vanishedKeys(before, after)));
    }
  }
}

export const ACCEPT =
  "`kopi-docka repo sync --accept-deleted` (or `repo maintenance --full --accept-deleted`)";

/**
 * Compares the repository with the ledger, then records it as it is now. Throws, naming the points and
 * `untouched`, when a snapshot of the ledger is gone (`accept`: the person says they deleted them).
 */
export async function checkNothingVanished(
  kopia: Kopia,
  stateDir: string,
  o: { untouched: string; accept?: boolean; signal?: AbortSignal },
): Promise<void> {
  const owner = ownerOf(kopia);
  const known = o.accept ? undefined : readLedger(stateDir, owner);
  const now = ledgerKeys(await kopia.snapshotList({ signal: o.signal }), owner);
  const gone = known ? vanishedKeys(known, now) : [];
  if (gone.length > 0) {
    const points = pointsOf(gone);
    throw new AppError(
      "repository",
      `${gone.length} snapshot(s) of ${points.length} restore point(s) (${points.slice(0, 5).join(", ")}${points.length > 5 ? ", …" : ""}) were in the repository at the last check and are gone, not deleted by kopi-docka (an index blob lost?); ${o.untouched}`,
      {
        hint: `${RECOVER_INDEX} brings back snapshots whose index blob was lost; or ${FROM_REPLICA}; if they were deleted on purpose (kopia by hand), record that: ${ACCEPT}`,
      },
    );
  }
  writeLedger(stateDir, owner, now);
}

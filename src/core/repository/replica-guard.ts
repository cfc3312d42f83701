import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { RepositoryConfig } from "../../config/schema.ts";
import { writeFileAtomic } from "../durable.ts";
import { AppError, ProcessError } from "../errors.ts";
import { isRecord } from "../guards.ts";
import type { Kopia } from "../kopia/kopia.ts";
import { failure } from "../process/runner.ts";
import { checkPacks, checkSnapshots } from "./integrity.ts";
import { checkNothingVanished } from "./snapshot-ledger.ts";

/** A dry run lists both repositories, as long as a real sync does before it copies. */
const DRY_RUN_TIMEOUT_MS = 6 * 3_600_000;

/**
 * `<state_dir>/replicas/<name>/synced.json`: replica NAME has held a copy of this repository at this
 * location. From then on every sync passes `--must-exist`, so an unmounted disk or a moved location
 * fails instead of receiving a fresh copy.
 */
export function syncedMarker(stateDir: string, name: string): string {
  return join(stateDir, "replicas", name, "synced.json");
}

/** True when the marker names this location (an unreadable marker counts: fail closed). */
export function hasSynced(stateDir: string, name: string, where: string): boolean {
  const file = syncedMarker(stateDir, name);
  if (!existsSync(file)) return false;
  try {
    const marker: unknown = JSON.parse(readFileSync(file, "utf8"));
    return !isRecord(marker) || typeof marker.location !== "string" || marker.location === where;
  } catch {
    return true;
  }
}

/** When the marker says a copy was first made at this location; undefined without one. */
export function syncedAt(stateDir: string, name: string, where: string): string | undefined {
  try {
    const marker: unknown = JSON.parse(readFileSync(syncedMarker(stateDir, name), "utf8"));
    if (!isRecord(marker) || marker.location !== where || typeof marker.at !== "string") return undefined;
    return marker.at;
  } catch {
    return undefined;
  }
}

export function markSynced(stateDir: string, name: string, where: string): void {
  const file = syncedMarker(stateDir, name);
  mkdirSync(join(stateDir, "replicas", name), { recursive: true, mode: 0o700 });
  writeFileAtomic(file, `${JSON.stringify({ location: where, at: new Date().toISOString() })}\n`, 0o600);
}

/** kopia's dry-run summary (cli/command_repository_sync.go): "Found N BLOBs to delete (…), M in sync (…)". */
export function blobsToDelete(stderr: string): number | undefined {
  const m = /Found (\d+) BLOBs to delete/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/** kopia's stderr behind a failure, also when its wrapper already typed it. */
export function kopiaStderr(e: unknown): string {
  if (e instanceof ProcessError) return e.stderrTail;
  if (e instanceof AppError && e.cause instanceof ProcessError) return e.cause.stderrTail;
  return "";
}

/** `--must-exist` found no copy where the marker says one was: the disk, bucket or path is not the one. */
export const COPY_GONE = /destination repository does not have a format blob|cannot access storage path/;

/**
 * Who tells a replica's problem. A sync stops at it and says it copied nothing; doctor copies nothing
 * by design, and the same words there would read as a copy that failed.
 */
export type ToldBy = "sync" | "doctor";

/** A location that held this repository's copy (the marker) holds none now. */
export function copyGone(
  stateDir: string,
  name: string,
  repo: RepositoryConfig,
  where: string,
  by: ToldBy,
  cause?: unknown,
): AppError {
  const question = repo.backend === "filesystem" ? "is the disk mounted?" : "is the location right?";
  return new AppError(
    "repository",
    `replica ${name} at ${where} no longer holds the copy made there before: ${question}${by === "sync" ? " nothing was copied" : ""}`,
    {
      hint: `mount or fix the location; to start a new copy there on purpose, delete ${syncedMarker(stateDir, name)}`,
      cause,
    },
  );
}

export interface FirstSync {
  kopia: Kopia;
  name: string;
  where: string;
  storage: string[];
  env: Record<string, string>;
  stateDir: string;
  signal?: AbortSignal;
}

/**
 * `<state_dir>/replicas/<name>/refused.json`: this location was refused for holding other data. kopia
 * left its format blob there, so its own `--must-exist` check passes from then on: the refusal must
 * be remembered, or the next sync's `--delete` removes everything else under it.
 */
export function refusedMarker(stateDir: string, name: string): string {
  return join(stateDir, "replicas", name, "refused.json");
}

/** What the marker says of this location: refused, a count cut short ("checking"), or nothing. */
function refusal(stateDir: string, name: string, where: string): "refused" | "checking" | undefined {
  try {
    const marker: unknown = JSON.parse(readFileSync(refusedMarker(stateDir, name), "utf8"));
    if (!isRecord(marker)) return "refused";
    if (marker.location !== where) return undefined;
    return marker.checking === true ? "checking" : "refused";
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== "ENOENT" ? "refused" : undefined; // unreadable: fail closed
  }
}

function writeRefusal(f: FirstSync, fields: Record<string, unknown>): void {
  mkdirSync(join(f.stateDir, "replicas", f.name), { recursive: true, mode: 0o700 });
  const marker = { location: f.where, ...fields, at: new Date().toISOString() };
  writeFileAtomic(refusedMarker(f.stateDir, f.name), `${JSON.stringify(marker)}\n`, 0o600);
}

/**
 * Before the first sync to a location: it must be empty or hold this repository. kopia's `--delete`
 * would otherwise remove everything under it that is not in the source. Two dry runs: with
 * `--must-exist` it passes only when this repository is there (kopia compares unique IDs); without,
 * it counts what `--delete` would remove. kopia writes its format blob even on a dry run, so a refused
 * location keeps that one object.
 */
export async function checkFirstSync(f: FirstSync): Promise<void> {
  const state = refusal(f.stateDir, f.name, f.where);
  if (state === "refused") throw foreignLocation(f, undefined, "sync");
  const dryRun = (extra: string[]) =>
    f.kopia.run(["repository", "sync-to", ...f.storage, "--dry-run", "--delete", "--no-progress", ...extra], {
      env: f.env,
      signal: f.signal,
      timeoutMs: DRY_RUN_TIMEOUT_MS,
      check: false,
    });
  // A count cut short before (the marker says "checking"): kopia's format blob may be there since, and
  // `--must-exist` would pass on it. Counted again instead.
  if (state !== "checking") {
    const ours = await dryRun(["--must-exist"]);
    if (ours.exitCode === 0) return;
    if (!/does not have a format blob/.test(ours.stderr)) throw failure(ours);
  }
  // Marked before kopia leaves its format blob: a count that fails or is killed is never taken for a pass.
  writeRefusal(f, { checking: true });
  const r = await dryRun([]);
  if (r.exitCode !== 0) throw failure(r);
  const count = blobsToDelete(r.stderr);
  if (count === 0) {
    rmSync(refusedMarker(f.stateDir, f.name), { force: true });
    return;
  }
  writeRefusal(f, { objects: count ?? null });
  throw foreignLocation(f, count, "sync");
}

/** doctor's word of the refusal a first sync to this location would meet at once (the marker), or undefined. */
export function refusedBefore(stateDir: string, name: string, where: string): AppError | undefined {
  return refusal(stateDir, name, where) === "refused"
    ? foreignLocation({ stateDir, name, where }, undefined, "doctor")
    : undefined;
}

function foreignLocation(
  f: Pick<FirstSync, "stateDir" | "name" | "where">,
  count: number | undefined,
  by: ToldBy,
): AppError {
  return new AppError(
    "repository",
    `replica ${f.name} at ${f.where} holds ${count === undefined ? "data" : `${count} object(s)`} that are not this repository${by === "sync" ? "; nothing was copied or deleted" : ""}`,
    {
      hint: `a replica's location must be empty or hold this repository: point replica ${f.name} at an empty bucket, prefix or directory (kopia's check left its format blob "kopia.repository" there); once that location is empty, delete ${refusedMarker(f.stateDir, f.name)}`,
    },
  );
}

/**
 * Before any replica is synced, the primary must be whole in three ways, or `--delete` removes from
 * each replica the very blobs the primary lost, and the copy kept to outlive a failing disk fails
 * with it. Throws naming what is missing; no replica is touched.
 * - Every pack blob its index refers to is there, whole (`checkPacks`).
 * - Every object its snapshots refer to is in the index, in a pack that is there (`checkSnapshots`).
 *   A lost index blob passes the first check (its entries are simply gone) and leaves the snapshots
 *   that used it unreadable; the sync would then delete that index blob from each replica too, and
 *   a later full maintenance deletes the packs it indexed as unused, on the primary and, at the next
 *   sync, on every replica.
 * - Every snapshot the last check found is still listed, or kopi-docka deleted it
 *   (`checkNothingVanished`): an index blob that listed whole snapshots, manifests and all, passes
 *   the other two. `acceptDeleted`: the person says the missing ones were deleted on purpose.
 */
export async function checkPrimaryIntact(
  kopia: Kopia,
  stateDir: string,
  o: { acceptDeleted?: boolean; signal?: AbortSignal } = {},
): Promise<void> {
  await checkPacks(kopia, NOTHING_SYNCED, o.signal);
  await checkSnapshots(kopia, NOTHING_SYNCED, o.signal);
  await checkNothingVanished(kopia, stateDir, {
    untouched: NOTHING_SYNCED,
    accept: o.acceptDeleted,
    signal: o.signal,
  });
}

const NOTHING_SYNCED = "no replica was synced, so each still holds them";

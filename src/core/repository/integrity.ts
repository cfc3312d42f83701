import { AppError } from "../errors.ts";
import { isRecord } from "../guards.ts";
import type { Kopia } from "../kopia/kopia.ts";
import { failure } from "../process/runner.ts";

// Is the repository whole? Two checks that read no file data, each throwing an AppError that names
// the damage and `untouched`, what was therefore not done (a replica sync, full maintenance).

/** Both run over the whole repository: hours are possible on a big remote one. */
const CHECK_TIMEOUT_MS = 6 * 3_600_000;

/** kopia's `content verify` counters line (repo/content/verify.go): `verifyCounters:\t{…}`. */
export function missingPacks(stderr: string): { missing: number; truncated: number } | undefined {
  const line = stderr.split("\n").find((l) => l.startsWith("verifyCounters:"));
  try {
    const c: unknown = JSON.parse(line?.slice(line.indexOf("{")) ?? "");
    if (!isRecord(c) || typeof c.missingPacks !== "number" || typeof c.truncatedPacks !== "number")
      return undefined;
    return { missing: c.missingPacks, truncated: c.truncatedPacks };
  } catch {
    return undefined;
  }
}

/** `kopia content verify`: every pack blob the index lists is there, whole (one listing, no data read). */
export async function checkPacks(kopia: Kopia, untouched: string, signal?: AbortSignal): Promise<void> {
  const r = await kopia.run(["content", "verify", "--progress-interval=24h"], {
    signal,
    timeoutMs: CHECK_TIMEOUT_MS,
    check: false,
  });
  if (r.exitCode === 0) return;
  const lost = missingPacks(r.stderr);
  if (!lost || lost.missing + lost.truncated === 0) throw failure(r);
  throw new AppError(
    "repository",
    `the repository is damaged: ${lost.missing} pack blob(s) its index refers to are missing, ${lost.truncated} truncated; ${untouched}`,
    {
      hint: `\`kopi-docka kopia -- content verify\` names them (missingPack); copy those blobs back from a replica's location, or ${FROM_REPLICA}`,
    },
  );
}

/**
 * kopia's words for an object whose content is not in the index (`content not found`, `object not
 * found`, snapshot/snapshotfs/snapshot_verifier.go), or whose pack blob is gone.
 */
const UNREADABLE = /content (\S+ )?not found|object not found|is backed by missing blob/;

/**
 * `kopia snapshot verify` of every snapshot, reading no file: the tree and the index, met. Throws
 * naming the damage and `untouched`, what was therefore not done.
 */
export async function checkSnapshots(kopia: Kopia, untouched: string, signal?: AbortSignal): Promise<void> {
  const r = await kopia.run(["snapshot", "verify", "--verify-files-percent=0", "--no-progress"], {
    signal,
    timeoutMs: CHECK_TIMEOUT_MS,
    check: false,
  });
  if (r.exitCode === 0) return;
  if (!UNREADABLE.test(r.stderr)) throw failure(r);
  throw new AppError(
    "repository",
    `the repository is damaged: a snapshot refers to data its index no longer lists, or to a missing pack blob (an index blob lost?); ${untouched}`,
    {
      hint: `\`kopi-docka repo verify\` names the snapshots; ${RECOVER_INDEX} rebuilds a lost index from the packs; or ${FROM_REPLICA}`,
    },
  );
}

export const FROM_REPLICA = "restore from a replica: `kopi-docka restore --repository replica:NAME`";

/** kopia's rebuild of the index from the packs' own lists; kopia refuses it without the flag. */
export const RECOVER_INDEX = "`kopi-docka kopia -- index recover --commit --dangerous-commands=enabled`";

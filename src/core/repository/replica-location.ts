import type { RepositoryConfig } from "../../config/schema.ts";

/**
 * Where a replica's `sync-to --delete` may delete: kopia stores each blob at `prefix + id` and takes
 * every object whose key starts with the prefix for one of its own. A prefix that is not a folder
 * ("copy", not "copy/") or one that another location's key starts with ("copy/" and "copy/b/", or the
 * primary's) makes another copy's objects, or anyone's, strays to delete. Pure.
 */

/** The bucket-like place and the key prefix of a prefix-based backend; undefined for the others. */
function keyed(r: RepositoryConfig): { place: string; prefix: string } | undefined {
  const f = r as Record<string, unknown>;
  const prefix = typeof f.prefix === "string" ? f.prefix : undefined;
  if (prefix === undefined) return undefined;
  const place = [r.backend, f.endpoint, f.storage_account, f.storage_domain, f.bucket, f.container]
    .map((v) => (typeof v === "string" ? v : ""))
    .join("\u0000");
  return { place, prefix };
}

/** Why replica `name` must not be synced (its prefix), or undefined. `others`: the primary and the rest. */
export function replicaLocationProblem(
  name: string,
  repo: RepositoryConfig,
  others: readonly { name: string; repo: RepositoryConfig }[],
): string | undefined {
  const mine = keyed(repo);
  if (!mine) return undefined;
  if (mine.prefix !== "" && !mine.prefix.endsWith("/"))
    return `replica ${name}: prefix "${mine.prefix}" is not a folder: kopia's sync deletes every object whose key starts with it (a neighbour's "${mine.prefix}-x/…" too); end it with "/" (a new location: the copy is made anew there, and the objects of the old copy, keys starting with "${mine.prefix}", are yours to delete)`;
  for (const o of others) {
    const theirs = keyed(o.repo);
    if (!theirs || theirs.place !== mine.place) continue;
    // This sync's --delete covers every key under its prefix: the other location's too.
    if (theirs.prefix.startsWith(mine.prefix))
      return `replica ${name}: prefix "${mine.prefix}" holds ${o.name}'s "${theirs.prefix}" in the same bucket: its sync would delete the other's objects as strays; give the replica a folder of its own`;
  }
  return undefined;
}

import type { Config } from "../../config/schema.ts";

/** `[retention]`: how many of the latest points to keep, and of each hourly … annual bucket. */
export type Retention = Config["retention"];

/**
 * Bucket kinds in kopia's order (policy/retention_policy.go, v0.23.1): a point takes a slot of every
 * kind it is the newest in, while that kind has slots left and the point is within the kind's cutoff.
 */
const KINDS = ["latest", "annual", "monthly", "weekly", "daily", "hourly"] as const;
type Kind = (typeof KINDS)[number];

/**
 * Why retention keeps each of `times` (ISO-8601, newest first): kopia's rule, applied to whole restore
 * points instead of to each source on its own. Buckets are UTC (as kopia's), a bucket's cutoff counts
 * back from the newest time, and all-zero keeps everything (kopia's "keep latest unlimited"). Empty
 * reasons: past retention. Pure.
 */
export function retentionReasons(times: readonly string[], r: Retention, now?: Date): string[][] {
  // Counted back from the newest point, never from later than now (a point dated ahead of the clock).
  const newestTime = times.length ? new Date(times[0] as string) : new Date(0);
  const newest = now && now < newestTime ? now : newestTime;
  const allZero = KINDS.every((k) => r[k] === 0);
  const max = (k: Kind) => (k === "latest" && allZero ? Number.POSITIVE_INFINITY : r[k]);
  const used = new Set<string>();
  const counts = new Map<Kind, number>();
  return times.map((iso, i) => {
    const t = new Date(iso);
    const reasons: string[] = [];
    for (const kind of KINDS) {
      const n = counts.get(kind) ?? 0;
      if (n >= max(kind)) continue;
      if (kind !== "latest" && t < cutoff(newest, kind, r[kind])) continue;
      const id = `${kind}:${kind === "latest" ? i : bucket(t, kind)}`;
      if (used.has(id)) continue;
      used.add(id);
      counts.set(kind, n + 1);
      reasons.push(`${kind}-${n + 1}`);
    }
    return reasons;
  });
}

/** The oldest time a bucket kind still reaches: `n` of its units before the newest point. */
function cutoff(newest: Date, kind: Exclude<Kind, "latest">, n: number): Date {
  const d = new Date(newest);
  if (kind === "annual") d.setUTCFullYear(d.getUTCFullYear() - n);
  else if (kind === "monthly") d.setUTCMonth(d.getUTCMonth() - n);
  else if (kind === "weekly") d.setUTCDate(d.getUTCDate() - 7 * n);
  else if (kind === "daily") d.setUTCDate(d.getUTCDate() - n);
  else d.setUTCHours(d.getUTCHours() - n);
  return d;
}

/** The bucket `t` falls in: its UTC year, month, ISO week, day or hour. */
function bucket(t: Date, kind: Exclude<Kind, "latest">): string {
  const iso = t.toISOString();
  if (kind === "annual") return iso.slice(0, 4);
  if (kind === "monthly") return iso.slice(0, 7);
  if (kind === "daily") return iso.slice(0, 10);
  if (kind === "hourly") return iso.slice(0, 13);
  // ISO 8601 week: the week (Monday first) that holds the Thursday of t's week.
  const thursday = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
  thursday.setUTCDate(thursday.getUTCDate() + 3 - ((thursday.getUTCDay() + 6) % 7));
  const jan1 = Date.UTC(thursday.getUTCFullYear(), 0, 1);
  const week = Math.floor((thursday.getTime() - jan1) / 86_400_000 / 7) + 1;
  return `${thursday.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

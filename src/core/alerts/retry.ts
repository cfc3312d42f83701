import { errorMessage } from "../caught.ts";
import type { Logger } from "../log.ts";
import { scrub } from "./mask.ts";
import { type Message, wants } from "./message.ts";
import {
  claimPending,
  type PendingAlert,
  type PendingEntry,
  readPending,
  removePending,
  writePending,
} from "./pending.ts";
import type { SendResult } from "./send.ts";
import type { Target } from "./target.ts";

/**
 * Alerts a target did not get are kept (`pending.ts`) and sent again, marked delayed, by the next
 * process that sends alerts (`backup` at its start, the hourly `check-freshness`, `notify test`).
 * Kept: warnings, failures, urgent alerts, missed backups; these are news nobody else tells. Never
 * kept: a run that went well (the next report says as much, and a late "OK" could hide a failure
 * after it), a test message, and the heartbeat (`ping.ts`).
 */
export const keepsForLater = (m: Message) => m.event !== "test" && m.severity !== "info";

/** How many alerts one target keeps: a week of nightly failures and a few more; the newest win. */
export const MAX_PENDING_PER_TARGET = 10;
/** How old a kept alert may grow: past a week its news is old, and `history` and doctor tell it. */
export const MAX_PENDING_AGE_MS = 7 * 24 * 3_600_000;

export interface PendingQueue {
  dir: string;
  log: Logger;
  now: () => Date;
}

const when = (iso: string) => `${iso.slice(0, 19).replace("T", " ")} UTC`;

/** `a`'s message as it goes out late: said in the title, the body's first line and `delayedFrom`. */
export function delayedMessage(a: PendingAlert): Message {
  const m = a.message;
  const of = m.event === "missed" ? "check" : "run";
  const note = `delayed: from the ${of} at ${when(a.from)}`;
  return {
    ...m,
    title: `${m.title} (${note})`,
    body: `${note}; not delivered then${a.error ? ` (${a.error})` : ""}\n\n${m.body}`,
    data: { ...m.data, delayedFrom: a.from },
  };
}

/**
 * Keeps `m` for each target that wanted it and did not get it (`results` in `sendAll`'s order: the
 * targets that want `m`). A file holds the message as rendered, which holds no secret (it is what
 * every receiver gets; run records' errors are redacted), the target's `id` (a digest) and masked
 * label: never its URL, headers or login. Never throws; returns how many were kept.
 */
export function keepUndelivered(
  q: PendingQueue,
  targets: readonly Target[],
  m: Message,
  results: readonly SendResult[],
  from: string,
): number {
  if (!keepsForLater(m)) return 0;
  let kept = 0;
  targets
    .filter((t) => wants(t.level, m))
    .forEach((t, i) => {
      const r = results[i];
      if (!r || r.ok) return;
      try {
        writePending(q.dir, { target: t.id, label: t.label, from, error: r.error, message: m });
        kept++;
      } catch (e) {
        q.log.warn(`undelivered alert for ${t.label} not kept in ${q.dir}: ${errorMessage(e)}`);
      }
    });
  if (kept > 0) {
    q.log.info(
      `${kept} undelivered alert(s) kept in ${q.dir}: sent again by the next backup or check-freshness`,
    );
    readBounded(q);
  }
  return kept;
}

/**
 * The entries within the bounds, oldest first; those past them are removed and logged. Never throws:
 * what cannot be read is warned about and set aside (`readPending`).
 */
export function readBounded(q: PendingQueue): PendingEntry[] {
  const { entries, problems } = readPending(q.dir);
  for (const p of problems) q.log.warn(p);
  const oldest = q.now().getTime() - MAX_PENDING_AGE_MS;
  const perTarget = new Map<string, number>();
  const kept: PendingEntry[] = [];
  for (const e of [...entries].reverse()) {
    const n = (perTarget.get(e.alert.target) ?? 0) + 1;
    perTarget.set(e.alert.target, n);
    const why =
      Date.parse(e.alert.from) < oldest
        ? `older than ${MAX_PENDING_AGE_MS / 86_400_000} days`
        : n > MAX_PENDING_PER_TARGET
          ? `more than ${MAX_PENDING_PER_TARGET} waiting for it`
          : undefined;
    if (!why) kept.unshift(e);
    else {
      removePending(e.file);
      q.log.warn(`undelivered alert for ${e.alert.label} dropped (${why}): ${e.alert.message.title}`);
    }
  }
  return kept;
}

/**
 * Sends every kept alert whose target is in `targets`, oldest first, marked delayed: one delivered
 * is removed, one that fails again stays as it was (once). A target that fails is not tried again in
 * this call (it is down: the rest would only wait out the timeout too). Alerts for a target not
 * configured now stay until they age out. Never throws.
 */
export async function retryPending(
  q: PendingQueue,
  targets: readonly Target[],
  send: (t: Target, m: Message) => Promise<SendResult>,
): Promise<{ delivered: number; failed: number }> {
  const entries = readBounded(q);
  const counts = { delivered: 0, failed: 0 };
  await Promise.all(
    targets.map(async (t) => {
      for (const e of entries.filter((x) => x.alert.target === t.id)) {
        const claim = claimPending(e.file);
        if (!claim) continue; // another process is sending it
        const r = await send(t, delayedMessage(e.alert)).catch(
          (x): SendResult => ({
            target: t.label,
            ok: false,
            ms: 0,
            error: scrub(errorMessage(x), t.secrets),
          }),
        );
        if (r.ok) {
          claim.delivered();
          counts.delivered++;
          q.log.info(`delayed alert from ${when(e.alert.from)} delivered to ${t.label}`);
          continue;
        }
        claim.release();
        counts.failed++;
        q.log.warn(`delayed alert(s) for ${t.label} still not delivered, kept: ${r.error ?? "failed"}`);
        return;
      }
    }),
  );
  return counts;
}

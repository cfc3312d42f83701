import { errorMessage } from "../caught.ts";
import { policyArg, restartsByItself } from "../containers/held-policy.ts";
import { createJournal } from "../containers/journal.ts";
import type { ContainerPlan } from "./plan-model.ts";
import type { Refusal } from "./refusals.ts";

/** A container a restore left stopped on purpose (a journal entry's `hold`), and the restore's words. */
export interface HeldContainer {
  id: string;
  name: string;
  hold: string;
  /** The unit whose restore holds it. */
  unit: string;
  /** The restart policy held at `no` meanwhile and put back when the hold ends; unset when none. */
  policy?: string;
}

/**
 * The held containers in the restart journal. Read after the heal (`recoverIfNeeded`), which keeps an
 * entry only while its container is stopped as the restore left it. Never throws: a journal this
 * process cannot read (a dry run without root) is a warning, and nothing is known held; the real run
 * healed that same journal under the lock a moment before.
 */
export function heldContainers(journalDir: string, warn: (m: string) => void): HeldContainer[] {
  try {
    const journal = createJournal(journalDir, { warn });
    if (!journal.hasEntries()) return [];
    return journal.entries().flatMap((e) => {
      if (!e.hold) return [];
      const name = e.containerName.replace(/^\//, "");
      const saved = e.heldPolicy && restartsByItself(e.heldPolicy) ? policyArg(e.heldPolicy) : undefined;
      return [{ id: e.containerId, name, hold: e.hold, unit: e.unit, ...(saved ? { policy: saved } : {}) }];
    });
  } catch (e) {
    warn(`containers a restore left held are not known: ${errorMessage(e)}`);
    return [];
  }
}

/** Docker ids match whole or by prefix (a journal may hold the short form). */
const sameId = (a: string, b: string) => a.length > 0 && b.length > 0 && (a.startsWith(b) || b.startsWith(a));

/**
 * A unit with a held container is not backed up. Its data may be half restored: a snapshot of it would
 * be saved as a complete point, the newest, the one `restore --latest` takes, and retention would count
 * it against the good ones. So the unit fails (nothing of it stopped or read, its points not expired)
 * until the data is restored again, or the container is started by someone who knows it is good: the
 * heal then clears the hold, and the next backup takes it.
 */
export function heldRefusal(
  unit: string,
  containers: readonly ContainerPlan[],
  held: readonly HeldContainer[],
): Refusal | undefined {
  const found = containers.flatMap((c) => {
    const h = c.action === "stays_stopped" ? held.find((x) => sameId(x.id, c.id)) : undefined;
    return h ? [{ name: c.name, hold: h.hold, policy: h.policy }] : [];
  });
  if (found.length === 0) return undefined;
  const names = found.map((f) => f.name).join(" ");
  const holds = [...new Set(found.map((f) => f.hold))].join("; ");
  const next = `restore unit ${unit} again (or go back to the undo point the hold names), or, if its data is known good, start it: docker start ${names}; the next backup then takes it`;
  return {
    culprits: found.map((f) => f.name),
    reason:
      `${found.map((f) => f.name).join(", ")} ${found.length > 1 ? "are" : "is"} held stopped by a restore that did not finish ` +
      `(${holds}). Its data may be half restored: backed up, it would become the newest restore point. ` +
      `Nothing of unit ${unit} is stopped or backed up, and its restore points are not expired.${heldPolicies(found)} Next: ${next}`,
    short: `${found.map((f) => f.name).join(", ")} held by a restore`,
    because: "held: a restore that did not finish left it stopped on possibly half-restored data",
    next,
  };
}

/** What the refusal says of the restart policies held at `no`, so docker does not start them either. */
function heldPolicies(found: readonly { name: string; policy?: string | undefined }[]): string {
  const withPolicy = found.filter((f) => f.policy);
  if (withPolicy.length === 0) return "";
  const list = withPolicy.map((f) => `${f.name}: ${f.policy}`).join(", ");
  return ` Its restart policy is held at no meanwhile, so docker does not start it by itself (was ${list}); it is put back when the hold ends.`;
}

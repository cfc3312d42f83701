import { errorMessage } from "../caught.ts";
import type { ContainerInspect, Docker } from "../docker/docker.ts";
import type { Logger } from "../log.ts";
import type { Journal, JournalEntry } from "./journal.ts";

/**
 * A held container's restart policy. `docker stop` keeps nothing from starting it again: dockerd starts
 * a stopped `always` container at its own start (a boot after the power loss that cut the restore
 * short), and `unless-stopped` / `on-failure` have rules of their own. So a restore that holds a
 * container saves its policy in the journal entry (durable first), then sets `no`; whoever ends the
 * hold puts the saved policy back (unless someone set another meanwhile), then clears the entry. A
 * crash between the steps leaves an entry that still names the policy to put back, and putting it
 * back twice does no harm.
 */
export type SavedPolicy = NonNullable<JournalEntry["heldPolicy"]>;

/** What docker's inspect says; an empty or missing name is docker's `no`. */
export function policyOf(c: Pick<ContainerInspect, "HostConfig">): SavedPolicy {
  const p = c.HostConfig?.RestartPolicy;
  return { name: p?.Name || "no", maximumRetryCount: p?.MaximumRetryCount ?? 0 };
}

/** The `--restart` value: docker takes a retry count only with `on-failure`. */
export function policyArg(p: SavedPolicy): string {
  return p.name === "on-failure" && p.maximumRetryCount > 0 ? `on-failure:${p.maximumRetryCount}` : p.name;
}

/** Whether docker starts a container with this policy by itself. */
export const restartsByItself = (p: SavedPolicy) => p.name !== "no";

/**
 * Sets `no` on a held container whose entry (already durable) saved its policy. Never throws: a
 * policy that stays is said, and the heal will not take the container running as a person's consent.
 */
export async function holdPolicy(docker: Docker, entry: JournalEntry, log: Logger): Promise<void> {
  if (!entry.heldPolicy || !restartsByItself(entry.heldPolicy)) return;
  const name = entry.containerName.replace(/^\//, "");
  try {
    await docker.setRestartPolicy(entry.containerId, "no");
  } catch (e) {
    log.warn(
      `${name} keeps its restart policy ${policyArg(entry.heldPolicy)} (docker update failed: ${errorMessage(e)}): docker may start it on half-restored data; set it by hand: docker update --restart=no ${name}`,
    );
  }
}

/**
 * Puts a held container's saved policy back, only over the `no` the hold set: a policy someone set
 * meanwhile (`docker update --restart`) is theirs, kept and said. True when it is back, kept, there
 * was none to put back, or the container is gone; false (said) when docker failed: the caller keeps
 * the entry, so a later run tries again.
 */
export async function putBackPolicy(docker: Docker, entry: JournalEntry, log: Logger): Promise<boolean> {
  const saved = entry.heldPolicy;
  if (!saved || !restartsByItself(saved)) return true;
  const name = entry.containerName.replace(/^\//, "");
  const failed = (e: unknown) => {
    log.warn(
      `${name}: could not put its restart policy ${policyArg(saved)} back (${errorMessage(e)}); kopi-docka tries again at its next run, or: docker update --restart=${policyArg(saved)} ${name}`,
    );
    return false;
  };
  let now: SavedPolicy;
  try {
    const [c] = await docker.inspectContainers([entry.containerId]);
    if (!c) return true;
    now = policyOf(c);
  } catch (e) {
    return failed(e);
  }
  if (policyArg(now) === policyArg(saved)) return true;
  if (restartsByItself(now)) {
    log.info(
      `${name}: restart policy ${policyArg(now)} kept: it was set since the hold set no (${policyArg(saved)} not put back)`,
    );
    return true;
  }
  try {
    await docker.setRestartPolicy(entry.containerId, policyArg(saved));
    log.info(`${name}: restart policy ${policyArg(saved)} put back`);
    return true;
  } catch (e) {
    if (!(await docker.exists(entry.containerId).catch(() => true))) return true;
    return failed(e);
  }
}

/**
 * Ends an entry: its policy put back, then the entry cleared. If the policy could not be put back, the
 * entry stays without its hold (nothing is held any more), keeping the policy for the next heal.
 */
export async function clearEntry(
  d: { docker: Docker; journal: Journal; log: Logger },
  entry: JournalEntry,
): Promise<void> {
  if (await putBackPolicy(d.docker, entry, d.log)) {
    d.journal.clear(entry.runId, entry.containerId);
    return;
  }
  if (entry.hold) {
    const { hold: _, ...kept } = entry;
    d.journal.record(kept);
  }
}

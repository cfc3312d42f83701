import { errorMessage } from "../caught.ts";
import type { ContainerInspect, Docker } from "../docker/docker.ts";
import type { Check } from "../doctor.ts";
import { isProcessAlive } from "../lock/owner.ts";
import { policyArg, restartsByItself } from "./held-policy.ts";
import { type JournalEntry, peekJournal } from "./journal.ts";

/**
 * `doctor`'s `containers` line: a container kopi-docka stopped and no run started again (a backup that
 * ended `restart_failed`, a run killed during its cold window) is down, so the host is not healthy.
 * Read from the restart journal as it is and one `docker inspect`; nothing is written, no lock taken.
 * An entry of a run still alive is that run's cold window, not a finding; one whose container runs
 * again or is gone is cleared by the next backup or `recover`.
 */
export async function containersCheck(
  journalDir: string,
  docker: Pick<Docker, "inspectContainers">,
  isAlive: (pid: number, startTime?: number | null) => boolean = isProcessAlive,
): Promise<Check> {
  let peeked: ReturnType<typeof peekJournal>;
  try {
    peeked = peekJournal(journalDir);
  } catch (e) {
    return {
      id: "containers",
      status: "warn",
      detail: `cannot read the restart journal: ${errorMessage(e)}`,
      hint: "run doctor as root to see whether a container kopi-docka stopped is still down",
    };
  }
  const dead = peeked.entries.filter((e) => !isAlive(e.pid, e.pidStartTime));
  const running = peeked.entries.length - dead.length;
  // One a restore found stopped already and holds no more is not down because of kopi-docka.
  const orphaned = dead.filter((e) => e.hold || !e.alreadyStopped);
  const down = await stillDown(docker, orphaned);
  const held = down.filter((d) => d.entry.hold);
  const stopped = down.filter((d) => !d.entry.hold);
  if (down.length === 0) {
    const now = running ? `; ${running} stopped now by a running kopi-docka` : "";
    const invalid = peeked.invalid.length
      ? `; not valid journal entries: ${peeked.invalid.join(", ")} (recover moves them aside)`
      : "";
    return {
      id: "containers",
      status: invalid ? "warn" : "ok",
      detail: `no container left stopped by kopi-docka${now}${invalid}`,
      ...(invalid ? { hint: "check those containers by hand, then run `kopi-docka recover`" } : {}),
    };
  }
  const parts = [
    stopped.length
      ? `left stopped by a kopi-docka run that did not finish them: ${stopped.map((d) => `${d.name} (unit ${d.entry.unit}, run ${d.entry.runId})`).join(", ")}`
      : "",
    held.length
      ? `held stopped by a restore that did not finish: ${held.map((d) => `${d.name} (${d.entry.hold}${policyHeld(d.entry)})`).join("; ")}`
      : "",
  ].filter(Boolean);
  const hints = [
    stopped.length ? "run `kopi-docka recover` to start the ones left stopped" : "",
    held.length
      ? `a held container may hold half-restored data, its unit is not backed up, and recover leaves it stopped: restore its unit again (or go back to the undo point the hold names), or, if its data is known good, start it (docker start ${held.map((d) => d.name).join(" ")}); that releases the hold${held.some((d) => policyHeld(d.entry)) ? ", and kopi-docka's next run puts back the restart policy it held at no" : ""}`
      : "",
  ].filter(Boolean);
  return { id: "containers", status: "fail", detail: parts.join("; "), hint: hints.join("; ") };
}

/** The restart policy a hold keeps at `no` (docker would start an `always` container at its own start). */
function policyHeld(e: JournalEntry): string {
  if (!e.heldPolicy || !restartsByItself(e.heldPolicy)) return "";
  return `; restart policy held at no, was ${policyArg(e.heldPolicy)}`;
}

/** The entries whose container exists and is not running. If docker cannot tell, all of them. */
async function stillDown(
  docker: Pick<Docker, "inspectContainers">,
  entries: JournalEntry[],
): Promise<{ name: string; entry: JournalEntry }[]> {
  if (entries.length === 0) return [];
  let found: ContainerInspect[] | undefined;
  try {
    found = await docker.inspectContainers(entries.map((e) => e.containerId));
  } catch {
    found = undefined; // the docker lines above say why; the journal alone still names them
  }
  return entries.flatMap((entry) => {
    const name = entry.containerName.replace(/^\//, "");
    if (!found) return [{ name, entry }];
    const c = found.find((x) => x.Id.startsWith(entry.containerId));
    return c && !c.State.Running ? [{ name, entry }] : [];
  });
}

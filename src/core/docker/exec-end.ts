import { readdirSync, readFileSync } from "node:fs";

/**
 * `containerExec` marks the command it runs in a container with `KOPI_DOCKA_EXEC=<id>` in its env.
 * Ending the `docker exec` CLI does not end that command (moby/moby#9098): a dump cut short by a
 * signal, or by kopia failing, would go on reading the database and holding its locks. Its processes
 * are host processes, found through /proc/<pid>/environ (root reads every one).
 */
export const EXEC_MARKER_ENV = "KOPI_DOCKA_EXEC";

/** How long the command gets after SIGTERM before SIGKILL. */
const EXEC_END_GRACE_MS = 5_000;

/** Host pids of the processes whose environment carries `KOPI_DOCKA_EXEC=<id>`. */
export function markedPids(id: string): number[] {
  const want = `${EXEC_MARKER_ENV}=${id}`;
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((n) => /^\d+$/.test(n));
  } catch {
    return [];
  }
  return pids.map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(want);
    } catch {
      return false; // gone, or not ours to read
    }
  });
}

/** Ends what is left of a `docker exec` whose CLI was ended: SIGTERM, SIGKILL after the grace. */
export async function endExec(id: string, graceMs = EXEC_END_GRACE_MS): Promise<void> {
  const kill = (sig: NodeJS.Signals) => {
    const pids = markedPids(id);
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // already gone
      }
    }
    return pids.length;
  };
  if (kill("SIGTERM") === 0) return;
  const until = Date.now() + graceMs;
  while (Date.now() < until) {
    await Bun.sleep(100);
    if (markedPids(id).length === 0) return;
  }
  kill("SIGKILL");
}

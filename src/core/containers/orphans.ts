import { readdirSync, readFileSync } from "node:fs";
import { isProcessAlive, processStartTime } from "../lock/owner.ts";
import type { Logger } from "../log.ts";
import { isUncancellable } from "../process/children.ts";

/**
 * Children of a run that was killed with SIGKILL outlive it (they run in their own process groups).
 * Every child inherits `KOPI_DOCKA_RUN=<pid>:<start time>` from the run, so recovery can find them in
 * /proc: a `docker stop` still in flight would stop a container *after* we restarted it, so recovery
 * waits for it; anything else (kopia reading a volume that is about to come back to life, a hook) is
 * ended, SIGTERM first so kopia can mark its snapshot incomplete.
 */
export const RUN_MARKER_ENV = "KOPI_DOCKA_RUN";

export function runMarker(pid: number, startTime: number | null | undefined): string {
  return `${pid}:${startTime ?? ""}`;
}

/** Called once at start-up by src/cli.ts: every child started from now on carries our marker. */
export function markRunProcess(): void {
  process.env[RUN_MARKER_ENV] = runMarker(process.pid, processStartTime(process.pid));
}

export interface OrphanProcess {
  pid: number;
  argv: string[];
  /** A `docker stop` (or `docker container stop`): its container stops even if the CLI is killed. */
  stopping: boolean;
}

/** Processes carrying one of `markers`, found through /proc/<pid>/environ (needs root for others'). */
export function findOrphans(markers: ReadonlySet<string>): OrphanProcess[] {
  if (markers.size === 0) return [];
  const out: OrphanProcess[] = [];
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((n) => /^\d+$/.test(n));
  } catch {
    return [];
  }
  for (const p of pids) {
    const pid = Number(p);
    if (pid === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      const mark = env.find((v) => v.startsWith(`${RUN_MARKER_ENV}=`));
      if (!mark || !markers.has(mark.slice(RUN_MARKER_ENV.length + 1))) continue;
      if (processStartTime(pid) === undefined) continue; // zombie
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
      out.push({ pid, argv, stopping: isUncancellable(argv) });
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

export interface SettleOptions {
  log: Logger;
  /** How long kopia & co get after SIGTERM before SIGKILL. */
  graceMs?: number;
  /** How long an in-flight `docker stop` may take to finish. */
  stopWaitMs?: number;
  find?: (markers: ReadonlySet<string>) => OrphanProcess[];
}

/**
 * Ends what a dead run left running, before its containers are looked at: waits for `docker stop`
 * orphans (bounded), SIGTERMs the rest, SIGKILLs what is still there after the grace, and waits no
 * longer for what even that does not end.
 */
export async function settleOrphans(markers: ReadonlySet<string>, options: SettleOptions): Promise<void> {
  const find = options.find ?? findOrphans;
  let orphans = find(markers);
  if (orphans.length === 0) return;
  options.log.info(
    `recover: ${orphans.length} process(es) of the dead run still running: ${orphans.map((o) => o.argv.slice(0, 3).join(" ")).join("; ")}`,
  );
  const signal = (pids: number[], sig: NodeJS.Signals) => {
    for (const pid of pids) {
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, sig);
        } catch {
          // not a group leader, or already gone
        }
      }
    }
  };
  signal(
    orphans.filter((o) => !o.stopping).map((o) => o.pid),
    "SIGTERM",
  );
  const started = Date.now();
  const grace = options.graceMs ?? 10_000;
  const stopWait = options.stopWaitMs ?? 300_000;
  let killed = false;
  while (orphans.length > 0) {
    await Bun.sleep(100);
    orphans = find(markers);
    const elapsed = Date.now() - started;
    if (!killed && elapsed > grace) {
      killed = true;
      signal(
        orphans.filter((o) => !o.stopping).map((o) => o.pid),
        "SIGKILL",
      );
    }
    // Only a `docker stop` is waited for past the kill: a process that outlives SIGKILL is stuck in
    // the kernel (a `btrfs subvolume snapshot` on a frozen filesystem) and may stay so for good.
    const bound = orphans.some((o) => o.stopping) ? Math.max(stopWait, grace + 1000) : grace + 1000;
    if (elapsed > bound) {
      options.log.warn(`recover: still running after ${Math.round(elapsed / 1000)}s: ${orphans.length}`);
      return;
    }
  }
}

/** The run whose stale lock a command took over (`LockHandle.tookOverFrom`). */
export interface DeadRun {
  pid: number;
  processStartTime: number | null;
}

/** The marker of `deadRun`'s children, unless that run still lives (then it is nobody's to end). */
export function deadRunMarker(
  deadRun: DeadRun | undefined,
  isAlive: (pid: number, startTime?: number | null) => boolean = isProcessAlive,
): string | undefined {
  if (!deadRun || isAlive(deadRun.pid, deadRun.processStartTime)) return undefined;
  return runMarker(deadRun.pid, deadRun.processStartTime);
}

/**
 * For commands that take the lock over from a dead run but start no containers (`points`,
 * `upgrade`): what that run left running is ended all the same, or a snapshot it opened would wait
 * at its gate for hours. The containers it stopped stay in the journal for the next backup, restore
 * or `kopi-docka recover`, which start them.
 */
export async function settleDeadRun(deadRun: DeadRun | undefined, options: SettleOptions): Promise<void> {
  const marker = deadRunMarker(deadRun);
  if (marker) await settleOrphans(new Set([marker]), options);
}

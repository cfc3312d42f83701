import { readFileSync } from "node:fs";
import { hostname as osHostname } from "node:os";

/**
 * Who holds a lock, and whether that holder still lives. A holder is a pid AND the process start time
 * from /proc (plus the boot id), so a reused pid never keeps a dead run's lock alive. The journal and
 * recovery use the same liveness test for the runs that wrote their entries.
 */
export interface LockInfo {
  pid: number;
  runId: string;
  command: string;
  startedAt: string;
  hostname: string;
  /** /proc/<pid>/stat field 22 (clock ticks after boot); with `bootId`, defeats pid reuse. */
  processStartTime: number | null;
  bootId?: string;
}

/** The start time (field 22 of /proc/<pid>/stat) of a running process; undefined when it is gone. */
export function processStartTime(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields after it follow the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return undefined; // a zombie has finished its work
  const start = Number(fields[19]);
  return Number.isFinite(start) ? start : undefined;
}

/** True while `pid` runs and, when `startTime` is known, is still the same process. */
export function isProcessAlive(pid: number, startTime?: number | null): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const now = processStartTime(pid);
  if (now === undefined) return false;
  return startTime === undefined || startTime === null || now === startTime;
}

export function currentBootId(): string | undefined {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return undefined;
  }
}

/** This process as a lock holder. */
export function ownerInfo(runId: string, command: string): LockInfo {
  return {
    pid: process.pid,
    runId,
    command,
    startedAt: new Date().toISOString(),
    hostname: osHostname(),
    processStartTime: processStartTime(process.pid) ?? null,
    bootId: currentBootId(),
  };
}

/** Whether the holder still lives. Another host's process cannot be checked, so it counts as alive. */
export function isHeld(info: LockInfo): boolean {
  if (info.hostname !== osHostname()) return true;
  const boot = currentBootId();
  if (info.bootId && boot && info.bootId !== boot) return false;
  return isProcessAlive(info.pid, info.processStartTime);
}

/** A lock file's text as a holder; undefined when it is not one (torn, foreign). */
export function parseInfo(raw: string): LockInfo | undefined {
  try {
    const v = JSON.parse(raw) as Partial<LockInfo>;
    if (typeof v.pid !== "number" || typeof v.runId !== "string") return undefined;
    return {
      pid: v.pid,
      runId: v.runId,
      command: String(v.command ?? "?"),
      startedAt: String(v.startedAt ?? "?"),
      hostname: String(v.hostname ?? osHostname()),
      processStartTime: typeof v.processStartTime === "number" ? v.processStartTime : null,
      bootId: typeof v.bootId === "string" ? v.bootId : undefined,
    };
  } catch {
    return undefined;
  }
}

export function describeHolder(h: LockInfo): string {
  const host = h.hostname === osHostname() ? "" : ` on host ${h.hostname}`;
  return `pid ${h.pid}${host} (\`kopi-docka ${h.command}\`, started ${h.startedAt})`;
}

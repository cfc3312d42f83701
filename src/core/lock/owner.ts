import { readFileSync, readlinkSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import { isRecord } from "../guards.ts";

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
  /** `/proc/self/ns/pid` of the holder ("pid:[4026531836]"): a pid means something only in its namespace. */
  pidNamespace?: string;
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

export function currentPidNamespace(): string | undefined {
  try {
    return readlinkSync("/proc/self/ns/pid");
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
    pidNamespace: currentPidNamespace(),
  };
}

/**
 * Whether the holder still lives. The boot id, not the host name, says whether it ran on this kernel:
 * a host renamed since (or a lock written under `repository.hostname`-style names) is still checked by
 * pid, so a dead run's lock never blocks the next for ever. What this host cannot check (another
 * kernel, or another pid namespace on this one) counts as alive; `holderUncheckable` says so.
 */
export function isHeld(info: LockInfo): boolean {
  const boot = currentBootId();
  if (info.bootId && boot) {
    if (info.bootId !== boot) return info.hostname !== osHostname();
    const ns = currentPidNamespace();
    if (info.pidNamespace && ns && info.pidNamespace !== ns) return true;
    return isProcessAlive(info.pid, info.processStartTime);
  }
  if (info.hostname !== osHostname()) return true;
  return isProcessAlive(info.pid, info.processStartTime);
}

/** Why this host cannot tell whether the holder lives (so only a person can clear it); else undefined. */
export function holderUncheckable(info: LockInfo): string | undefined {
  const boot = currentBootId();
  if (info.bootId && boot && info.bootId === boot) {
    const ns = currentPidNamespace();
    return info.pidNamespace && ns && info.pidNamespace !== ns
      ? "it was taken in another pid namespace (a container) on this machine"
      : undefined;
  }
  if (info.hostname !== osHostname())
    return `it was taken on host ${info.hostname}, whose processes this host cannot see`;
  return undefined;
}

/** A lock file's text as a holder; undefined when it is not one (torn, foreign). */
export function parseInfo(raw: string): LockInfo | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    if (!isRecord(v) || typeof v.pid !== "number" || typeof v.runId !== "string") return undefined;
    return {
      pid: v.pid,
      runId: v.runId,
      command: String(v.command ?? "?"),
      startedAt: String(v.startedAt ?? "?"),
      hostname: String(v.hostname ?? osHostname()),
      processStartTime: typeof v.processStartTime === "number" ? v.processStartTime : null,
      bootId: typeof v.bootId === "string" ? v.bootId : undefined,
      pidNamespace: typeof v.pidNamespace === "string" ? v.pidNamespace : undefined,
    };
  } catch {
    return undefined;
  }
}

export function describeHolder(h: LockInfo): string {
  const host = h.hostname === osHostname() ? "" : ` on host ${h.hostname}`;
  return `pid ${h.pid}${host} (\`kopi-docka ${h.command}\`, started ${h.startedAt})`;
}

import { recordOr as obj, stringOr as str, stringsIn as strs } from "../guards.ts";

/**
 * The resource limits, log rotation, name resolution and tmpfs mounts of a saved `docker inspect`
 * that a rebuilt `docker run` carries (`run-settings.ts`): a container recreated on a new host
 * without its memory limit or its log rotation would fill that host. Each value is checked, since
 * the inspect is read back from a snapshot: numbers are whole and in range, names are names, and
 * only what stays inside the container is carried (a log driver that sends logs over the network, a
 * CPU set this host may not have: named for the plan's warning instead). Flags as `--flag=value`,
 * so a value can never read as another flag. Pure.
 */

type Obj = Record<string, unknown>;
const whole = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);

/** A DNS name, and nothing that reads as a flag. */
export const DNS_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,252}[A-Za-z0-9])?$/;
const IP = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)$/;

/** Inspect key → flag, for limits whose 0 means "none asked for". */
const POSITIVE: [string, string, string][] = [
  ["Memory", "--memory", "memory limit"],
  ["MemoryReservation", "--memory-reservation", "memory reservation"],
  ["CpuShares", "--cpu-shares", "CPU shares"],
  ["CpuQuota", "--cpu-quota", "CPU quota"],
  ["CpuPeriod", "--cpu-period", "CPU period"],
  ["PidsLimit", "--pids-limit", "pids limit"],
];

/** Docker's default /dev/shm size: not passed. */
const DEFAULT_SHM = 67108864;

/** Log drivers that keep logs on this host, and the rotation options of theirs that are carried. */
const LOCAL_LOG_DRIVERS = new Set(["json-file", "local", "journald", "none"]);
const LOG_OPTIONS = new Set(["max-size", "max-file", "compress"]);

/** Sysctls docker allows per container (namespaced): they change the container's kernel view only. */
const NAMESPACED_SYSCTL = /^(?:net\.[a-z0-9_.]+|kernel\.(?:shm[a-z_]+|msg[a-z_]+|sem)|fs\.mqueue\.[a-z_]+)$/;
const PLAIN_VALUE = /^[A-Za-z0-9][A-Za-z0-9 ._:-]{0,127}$/;
const ULIMIT_NAME = /^[a-z]{2,12}$/;
const TMPFS_OPTIONS = /^[a-z0-9=,.]*$/;

export function runLimits(host: Obj): { argv: string[]; notCarried: string[] } {
  const argv: string[] = [];
  const notCarried: string[] = [];
  const carry = (ok: boolean, arg: string, what: string) => (ok ? argv.push(arg) : notCarried.push(what));
  for (const [key, flag, what] of POSITIVE) {
    const v = host[key];
    if (v !== 0 && v !== null && v !== undefined) carry(whole(v) && v > 0, `${flag}=${v}`, what);
  }
  const swap = host.MemorySwap;
  if (swap !== 0 && swap !== null && swap !== undefined)
    carry(whole(swap) && (swap > 0 || swap === -1), `--memory-swap=${swap}`, "memory+swap limit");
  const cpus = host.NanoCpus;
  if (cpus !== 0 && cpus !== null && cpus !== undefined)
    carry(whole(cpus) && cpus > 0, `--cpus=${whole(cpus) ? cpus / 1e9 : 0}`, "CPU limit");
  const shm = host.ShmSize;
  if (shm !== DEFAULT_SHM && shm !== 0 && shm !== null && shm !== undefined)
    carry(whole(shm) && shm > 0, `--shm-size=${shm}`, "/dev/shm size");
  for (const u of Array.isArray(host.Ulimits) ? host.Ulimits.map(obj) : []) {
    const ok =
      ULIMIT_NAME.test(str(u.Name)) && whole(u.Soft) && whole(u.Hard) && u.Soft >= -1 && u.Hard >= -1;
    carry(ok, `--ulimit=${str(u.Name)}=${u.Soft}:${u.Hard}`, `ulimit ${JSON.stringify(str(u.Name))}`);
  }
  for (const h of strs(host.ExtraHosts)) {
    const at = h.indexOf(":");
    const ok = at > 0 && DNS_NAME.test(h.slice(0, at)) && IP.test(h.slice(at + 1));
    carry(ok, `--add-host=${h}`, `extra host ${JSON.stringify(h)}`);
  }
  for (const d of strs(host.Dns)) carry(IP.test(d), `--dns=${d}`, `DNS server ${JSON.stringify(d)}`);
  for (const d of strs(host.DnsSearch))
    carry(DNS_NAME.test(d), `--dns-search=${d}`, `DNS search domain ${JSON.stringify(d)}`);
  for (const d of strs(host.DnsOptions))
    carry(/^[a-z0-9-]+(?::\d+)?$/.test(d), `--dns-option=${d}`, `DNS option ${JSON.stringify(d)}`);
  for (const [k, v] of Object.entries(obj(host.Sysctls)))
    carry(NAMESPACED_SYSCTL.test(k) && PLAIN_VALUE.test(str(v)), `--sysctl=${k}=${str(v)}`, `sysctl ${k}`);
  for (const [path, options] of Object.entries(obj(host.Tmpfs))) {
    const ok = /^\/[^:,\s]*$/.test(path) && TMPFS_OPTIONS.test(str(options));
    carry(ok, `--tmpfs=${path}${str(options) ? `:${str(options)}` : ""}`, `tmpfs ${JSON.stringify(path)}`);
  }
  const log = logSettings(obj(host.LogConfig));
  argv.push(...log.argv);
  notCarried.push(...log.notCarried);
  return { argv, notCarried };
}

function logSettings(log: Obj): { argv: string[]; notCarried: string[] } {
  const type = str(log.Type);
  const options = Object.entries(obj(log.Config));
  if (!type || (type === "json-file" && options.length === 0)) return { argv: [], notCarried: [] };
  if (!LOCAL_LOG_DRIVERS.has(type)) return { argv: [], notCarried: [`log driver ${JSON.stringify(type)}`] };
  const argv = [`--log-driver=${type}`];
  const notCarried: string[] = [];
  for (const [k, v] of options) {
    if (LOG_OPTIONS.has(k) && /^[A-Za-z0-9.]{1,32}$/.test(str(v))) argv.push(`--log-opt=${k}=${str(v)}`);
    else notCarried.push(`log option ${JSON.stringify(k)}`);
  }
  return { argv, notCarried };
}

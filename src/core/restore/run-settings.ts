import { isRecord } from "../guards.ts";

/**
 * The run settings of a saved `docker inspect` beyond mounts, ports, env and privileges
 * (`docker-run.ts`): the few a rebuilt `docker run` carries, each value checked, since the inspect
 * is read back from a snapshot (none widens what the container may do), and the names of those it
 * does not, for the plan to warn about. Pure.
 */

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (isRecord(v) ? v : {});
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === "string") : []);
const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** A DNS name: what docker accepts as a hostname or network alias, and nothing that reads as a flag. */
const DNS_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,252}[A-Za-z0-9])?$/;

/**
 * Aliases work on a user-defined network only (`custom`: its name in the inspect); a hostname is the
 * host's or another container's with their network mode. Docker adds the container's short id as an
 * alias and hostname by itself: not passed.
 */
export function runSettings(
  inspect: Obj,
  network: { mode: string; custom: boolean },
): { argv: string[]; notCarried: string[] } {
  const config = obj(inspect.Config);
  const host = obj(inspect.HostConfig);
  const own = str(inspect.Id).slice(0, 12);
  const argv: string[] = [];
  const notCarried: string[] = [];
  const hostname = str(config.Hostname);
  const ownUts = network.mode !== "host" && !network.mode.startsWith("container:") && !str(host.UTSMode);
  if (hostname && hostname !== own && ownUts) {
    if (DNS_NAME.test(hostname)) argv.push("--hostname", hostname);
    else notCarried.push(`hostname ${JSON.stringify(hostname)}`);
  }
  const endpoints = obj(obj(inspect.NetworkSettings).Networks);
  const primary = network.custom ? obj(endpoints[network.mode]) : {};
  for (const alias of strs(primary.Aliases)) {
    if (alias === own) continue;
    if (DNS_NAME.test(alias)) argv.push("--network-alias", alias);
    else notCarried.push(`network alias ${JSON.stringify(alias)}`);
  }
  // Each narrows what the container may do, or only how it runs.
  if (config.Tty === true) argv.push("--tty");
  if (config.OpenStdin === true) argv.push("--interactive");
  if (host.Init === true) argv.push("--init");
  if (host.ReadonlyRootfs === true) argv.push("--read-only");
  const ipam = obj(primary.IPAMConfig);
  if (str(ipam.IPv4Address) || str(ipam.IPv6Address)) notCarried.push("its static IP address");
  // Its links (`--link`) are in HostConfig.Links too: named there, once.
  notCarried.push(...uncarriedHostSettings(host, config));
  return { argv, notCarried };
}

/** What a plain `docker run` on docker 20.10 leaves as these; anything else was asked for. */
const NUMBER_DEFAULTS: [string, string][] = [
  ["Memory", "memory limit"],
  ["MemoryReservation", "memory reservation"],
  ["MemorySwap", "memory+swap limit"],
  ["NanoCpus", "CPU limit"],
  ["CpuShares", "CPU shares"],
  ["CpuQuota", "CPU quota"],
  ["CpuPeriod", "CPU period"],
  ["BlkioWeight", "block IO weight"],
  ["OomScoreAdj", "OOM score adjustment"],
  ["PidsLimit", "pids limit"],
];

function uncarriedHostSettings(host: Obj, config: Obj): string[] {
  const out: string[] = [];
  for (const [key, what] of NUMBER_DEFAULTS) {
    const v = host[key];
    if (typeof v === "number" && v !== 0) out.push(what);
  }
  if (typeof host.ShmSize === "number" && host.ShmSize !== 67108864) out.push("/dev/shm size");
  if (str(host.CpusetCpus) || str(host.CpusetMems)) out.push("CPU/memory node set");
  if (host.OomKillDisable === true) out.push("OOM kill disabled");
  const list = (key: string, what: string) => {
    if (Array.isArray(host[key]) && (host[key] as unknown[]).length) out.push(what);
  };
  list("ExtraHosts", "extra /etc/hosts entries (--add-host)");
  list("Dns", "DNS servers");
  list("DnsSearch", "DNS search domains");
  list("DnsOptions", "DNS options");
  list("Ulimits", "ulimits");
  list("Devices", "devices");
  list("SecurityOpt", "security options");
  list("GroupAdd", "extra groups");
  list("VolumesFrom", "volumes from other containers");
  list("Links", "links");
  if (Object.keys(obj(host.Sysctls)).length) out.push("sysctls");
  if (Object.keys(obj(host.Tmpfs)).length) out.push("tmpfs mounts (--tmpfs)");
  const log = obj(host.LogConfig);
  if ((str(log.Type) && str(log.Type) !== "json-file") || Object.keys(obj(log.Config)).length)
    out.push(`log driver ${str(log.Type) || "settings"}`);
  for (const [key, flag] of [
    ["PidMode", "--pid"],
    ["UTSMode", "--uts"],
    ["UsernsMode", "--userns"],
  ] as const)
    if (str(host[key])) out.push(`${flag} ${str(host[key])}`);
  if (str(host.IpcMode) && !["private", "shareable"].includes(str(host.IpcMode)))
    out.push(`--ipc ${str(host.IpcMode)}`);
  if (str(host.Runtime) && str(host.Runtime) !== "runc") out.push(`runtime ${str(host.Runtime)}`);
  if (host.PublishAllPorts === true) out.push("publish all ports (-P)");
  if (str(config.Domainname)) out.push("domain name");
  if (str(config.MacAddress)) out.push("MAC address");
  return out;
}

import { recordOr as obj, stringOr as str, stringsIn as strs } from "../guards.ts";
import { DNS_NAME, runLimits } from "./run-limits.ts";

/**
 * The run settings of a saved `docker inspect` beyond mounts, ports, env and privileges
 * (`docker-run.ts`): the few a rebuilt `docker run` carries, each value checked, since the inspect
 * is read back from a snapshot (none widens what the container may do), and the names of those it
 * does not, for the plan to warn about. Pure.
 */

type Obj = Record<string, unknown>;

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
  const limits = runLimits(host);
  argv.push(...limits.argv);
  notCarried.push(...limits.notCarried);
  // Its links (`--link`) are in HostConfig.Links too: named there, once.
  notCarried.push(...uncarriedHostSettings(host, config));
  return { argv, notCarried };
}

/** Per-device I/O limits: they name this host's block devices. */
const BLKIO_DEVICE_LIMITS = [
  "BlkioWeightDevice",
  "BlkioDeviceReadBps",
  "BlkioDeviceWriteBps",
  "BlkioDeviceReadIOps",
  "BlkioDeviceWriteIOps",
];

function uncarriedHostSettings(host: Obj, config: Obj): string[] {
  const out: string[] = [];
  // Neither is inside the container: a weight against the host's other I/O, a rank in its OOM kills.
  if (typeof host.BlkioWeight === "number" && host.BlkioWeight !== 0) out.push("block IO weight");
  if (typeof host.OomScoreAdj === "number" && host.OomScoreAdj !== 0) out.push("OOM score adjustment");
  if (str(host.CpusetCpus) || str(host.CpusetMems)) out.push("CPU/memory node set");
  if (host.OomKillDisable === true) out.push("OOM kill disabled");
  const list = (key: string, what: string) => {
    if (Array.isArray(host[key]) && (host[key] as unknown[]).length) out.push(what);
  };
  list("Devices", "devices");
  list("SecurityOpt", "security options");
  list("GroupAdd", "extra groups");
  list("VolumesFrom", "volumes from other containers");
  list("Links", "links");
  list("DeviceRequests", "GPUs and other device requests (--gpus)");
  if (str(host.CgroupParent)) out.push("cgroup parent");
  if (BLKIO_DEVICE_LIMITS.some((k) => Array.isArray(host[k]) && (host[k] as unknown[]).length))
    out.push("block IO device limits");
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

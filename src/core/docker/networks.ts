import { type Exec, inspectMany } from "./inspect.ts";
import { type NetworkInspect, NetworkInspectSchema } from "./schemas.ts";

/** What `docker network create` is given. */
export interface NetworkSpec {
  name: string;
  driver: string;
  /** Omitted or "default": docker's own IPAM driver. */
  ipamDriver?: string;
  ipam: { subnet?: string; gateway?: string; ipRange?: string; auxAddresses?: Record<string, string> }[];
  internal?: boolean;
  attachable?: boolean;
  ipv6?: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
}

export function networkCreateArgv(n: NetworkSpec): string[] {
  const argv = ["network", "create", "--driver", n.driver];
  if (n.ipamDriver && n.ipamDriver !== "default") argv.push("--ipam-driver", n.ipamDriver);
  for (const c of n.ipam) {
    if (c.subnet) argv.push("--subnet", c.subnet);
    if (c.gateway) argv.push("--gateway", c.gateway);
    if (c.ipRange) argv.push("--ip-range", c.ipRange);
    for (const [k, v] of Object.entries(c.auxAddresses ?? {})) argv.push("--aux-address", `${k}=${v}`);
  }
  if (n.internal) argv.push("--internal");
  if (n.attachable) argv.push("--attachable");
  if (n.ipv6) argv.push("--ipv6");
  for (const [k, v] of Object.entries(n.labels)) argv.push("--label", `${k}=${v}`);
  for (const [k, v] of Object.entries(n.options)) argv.push("--opt", `${k}=${v}`);
  return [...argv, n.name];
}

const TIMEOUT_MS = 60_000;

/** Network operations of the client (see docker.ts). */
export function networkOps(exec: Exec) {
  return {
    /** Inspect of many networks in one process; ones that do not exist are absent. */
    networkInspect(names: readonly string[]): Promise<NetworkInspect[]> {
      return inspectMany(exec, ["network", "inspect"], names, NetworkInspectSchema);
    },

    async networkCreate(spec: NetworkSpec): Promise<void> {
      await exec(networkCreateArgv(spec), { timeoutMs: TIMEOUT_MS });
    },

    async networkRemove(name: string): Promise<void> {
      await exec(["network", "rm", name], { timeoutMs: TIMEOUT_MS });
    },

    async networkConnect(name: string, container: string): Promise<void> {
      await exec(["network", "connect", name, container], { timeoutMs: TIMEOUT_MS });
    },

    /** `force`: disconnect even a container that is not running. */
    async networkDisconnect(name: string, container: string, o: { force?: boolean } = {}): Promise<void> {
      await exec(["network", "disconnect", ...(o.force ? ["-f"] : []), name, container], {
        timeoutMs: TIMEOUT_MS,
      });
    },
  };
}

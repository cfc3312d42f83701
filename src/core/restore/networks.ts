import type { Docker, NetworkSpec } from "../docker/docker.ts";
import type { NetworkInspect } from "../docker/schemas.ts";
import type { Logger } from "../log.ts";
import type { NetworkStep } from "./types.ts";

/**
 * What `docker network create` needs, from a saved `docker network inspect`: driver, IPAM config
 * (subnet, gateway, IP range, aux addresses), labels, options, internal, attachable, IPv6.
 * `labels` replaces the saved labels (a side-by-side copy carries its own project label);
 * `withIpam` false drops fixed subnets, which a copy next to the original could not reuse.
 */
export function networkSpec(
  name: string,
  inspect: NetworkInspect,
  o: { labels?: Record<string, string>; withIpam?: boolean } = {},
): NetworkSpec {
  const ipam = inspect.IPAM ?? {};
  return {
    name,
    driver: inspect.Driver || "bridge",
    ...(o.withIpam !== false && ipam.Driver ? { ipamDriver: ipam.Driver } : {}),
    ipam:
      o.withIpam === false
        ? []
        : (ipam.Config ?? []).map((c) => ({
            subnet: c.Subnet,
            gateway: c.Gateway,
            ipRange: c.IPRange,
            auxAddresses: c.AuxiliaryAddresses ?? {},
          })),
    internal: inspect.Internal === true,
    attachable: inspect.Attachable === true,
    ipv6: inspect.EnableIPv6 === true,
    labels: o.labels ?? inspect.Labels ?? {},
    options: inspect.Options ?? {},
  };
}

/**
 * Creates missing networks; recreates conflicting ones only when the plan says so (the request had
 * `--recreate-networks`): attached containers are disconnected, the network replaced, and they are
 * connected again.
 */
export async function applyNetworks(
  docker: Docker,
  steps: readonly NetworkStep[],
  o: { labels: (l: Record<string, string>) => Record<string, string>; copy: boolean; log: Logger },
): Promise<void> {
  for (const step of steps) {
    if (step.action === "keep") continue;
    if (step.action === "conflict")
      throw new Error(`network ${step.name}: a conflict must be refused before`);
    const labels = o.labels(step.inspect.Labels ?? {});
    const spec = networkSpec(step.name, step.inspect, { labels, withIpam: !o.copy });
    if (step.action === "create") {
      o.log.info(`network ${step.name}: creating`);
      await docker.networkCreate(spec);
      continue;
    }
    o.log.info(`network ${step.name}: recreating`);
    const [live] = await docker.networkInspect([step.name]);
    const attached = Object.values(live?.Containers ?? {}).flatMap((c) => (c.Name ? [c.Name] : []));
    for (const c of attached) await docker.networkDisconnect(step.name, c, { force: true });
    await docker.networkRemove(step.name);
    await docker.networkCreate(spec);
    // Best effort, as before the replacement: a container that cannot rejoin is left for the user.
    for (const c of attached) await docker.networkConnect(step.name, c).catch(() => undefined);
  }
}

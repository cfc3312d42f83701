import { errorMessage } from "../caught.ts";
import type { Docker, NetworkSpec } from "../docker/docker.ts";
import type { NetworkInspect } from "../docker/schemas.ts";
import { AppError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { hasRedaction, redactDeep } from "../snapshot/redact.ts";
import { fixedByUser } from "./compose-facts.ts";
import type { Renamer } from "./names.ts";
import type { LoadedRecipe } from "./recipe.ts";
import type { CurrentState, NetworkStep, RestoreRequest } from "./types.ts";

/**
 * Networks the unit used: created when missing, kept when equal. Only what the user fixed counts:
 * a compose network whose compose files set no driver or IPAM config got its subnet from Docker's
 * pool, so it is created without one and a same-named network with another subnet is kept, as
 * compose itself would. One that differs in a fixed driver or subnet is replaced only when the
 * request allows it (`--recreate-networks`, or consent in the wizard); otherwise it is a conflict,
 * which the executor refuses before changing anything.
 */
export function planNetworks(
  recipe: LoadedRecipe,
  state: CurrentState,
  req: RestoreRequest,
  names: Renamer,
): NetworkStep[] {
  const wanted = new Set(recipe.unit.networks);
  return recipe.networks
    .filter((n) => wanted.has(n.Name))
    .map((inspect): NetworkStep => {
      const labels = inspect.Labels ?? {};
      const name = names.network(inspect.Name, labels);
      const fixed = fixedByUser(labels, state.compose);
      // A copy next to the original could never reuse its subnets.
      const pinSubnets = fixed.subnet && !req.as;
      const existing = state.networks[name];
      if (!existing) return { name, action: "create", inspect, pinSubnets };
      const subnets = (inspect.IPAM?.Config ?? [])
        .map((c) => c.Subnet)
        .filter((s): s is string => Boolean(s));
      const conflict =
        (fixed.driver && existing.driver !== inspect.Driver) ||
        (pinSubnets && subnets.some((s) => !existing.subnets.includes(s)));
      if (!conflict) return { name, action: "keep", inspect, pinSubnets };
      const note = `exists with driver ${existing.driver}, subnet ${existing.subnets.join(",") || "none"}; the backup has ${inspect.Driver}, ${subnets.join(",") || "none"}`;
      return { name, action: req.recreateNetworks ? "recreate" : "conflict", inspect, note, pinSubnets };
    });
}

/**
 * Networks to create whose labels or driver options hold a secret: redacted in the backup, or in
 * plain text in a recipe written before networks were redacted. `docker network create` takes them
 * only in argv, which `ps` shows to every user, so kopi-docka never creates such a network.
 */
export function secretNetworkRefusals(networks: readonly NetworkStep[]): string[] {
  return networks
    .filter((n) => n.action === "create" || n.action === "recreate")
    .flatMap((n) => {
      const held = (["Labels", "Options"] as const).filter((k) => {
        const values = n.inspect[k] ?? {};
        return (
          Object.values(values).some(hasRedaction) ||
          JSON.stringify(redactDeep(values)) !== JSON.stringify(values)
        );
      });
      return held.length
        ? [
            `network ${n.name}: its ${held.map((k) => k.toLowerCase()).join(" and ")} hold a secret, which kopi-docka never puts on a command line; ` +
              `create it yourself (a compose file's networks section with docker-compose up --no-start, or the docker socket with the request body in a file: ` +
              `curl --unix-socket /var/run/docker.sock -H 'Content-Type: application/json' -d @network.json http://localhost/networks/create); then restore again`,
          ]
        : [];
    });
}

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
 * `--recreate-networks`): attached containers, running or stopped, are disconnected, the network
 * replaced, and they are connected again.
 */
export async function applyNetworks(
  docker: Docker,
  steps: readonly NetworkStep[],
  o: { labels: (l: Record<string, string>) => Record<string, string>; log: Logger },
): Promise<void> {
  for (const step of steps) {
    if (step.action === "keep") continue;
    if (step.action === "conflict")
      throw new Error(`network ${step.name}: a conflict must be refused before`);
    const labels = o.labels(step.inspect.Labels ?? {});
    const spec = networkSpec(step.name, step.inspect, { labels, withIpam: step.pinSubnets });
    if (step.action === "create") {
      o.log.info(`network ${step.name}: creating`);
      await docker.networkCreate(spec);
      continue;
    }
    o.log.info(`network ${step.name}: recreating`);
    const [live] = await docker.networkInspect([step.name]);
    // The running ones (inspect), and the stopped ones (this restore's too): each keeps its endpoint
    // by network ID, so one left attached could not start once the network is replaced.
    const attached = [
      ...new Set([
        ...Object.values(live?.Containers ?? {}).flatMap((c) => (c.Name ? [c.Name] : [])),
        ...(await docker.containersOnNetwork(step.name)),
      ]),
    ];
    let removed = false;
    try {
      for (const c of attached) await docker.networkDisconnect(step.name, c, { force: true });
      await docker.networkRemove(step.name);
      removed = true;
      await docker.networkCreate(spec);
    } catch (e) {
      // The backup's network could not take its place (its subnet overlaps one of this host's, its
      // parent interface is not here): the old one comes back as it was, with every container it had,
      // other units' too, and the restore fails with nothing of the network changed.
      if (removed && live) await docker.networkCreate(networkSpec(step.name, live)).catch(() => undefined);
      for (const c of attached) await docker.networkConnect(step.name, c).catch(() => undefined);
      throw new AppError(
        "restore_failed",
        `network ${step.name} could not be recreated as the backup has it: ${errorMessage(e)}; ${removed ? "the old one was put back" : "it was left as it was"}, its containers reconnected`,
        { hint: "restore without --recreate-networks to keep this host's network", cause: e },
      );
    }
    // Best effort, as before the replacement: a container that cannot rejoin is left for the user.
    for (const c of attached) await docker.networkConnect(step.name, c).catch(() => undefined);
  }
}

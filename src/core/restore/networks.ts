import type { Docker } from "../docker/docker.ts";
import type { Logger } from "../log.ts";
import { fixedByUser } from "./compose-facts.ts";
import type { Renamer } from "./names.ts";
import type { LoadedRecipe } from "./recipe.ts";
import type { CurrentState, NetworkStep, RestoreRequest } from "./types.ts";

type Obj = Record<string, unknown>;

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
    .filter((n) => wanted.has(String(n.Name)))
    .map((inspect): NetworkStep => {
      const labels = (inspect.Labels as Record<string, string> | null) ?? {};
      const name = names.network(String(inspect.Name), labels);
      const fixed = fixedByUser(labels, state.compose);
      // A copy next to the original could never reuse its subnets.
      const pinSubnets = fixed.subnet && !req.as;
      const existing = state.networks[name];
      if (!existing) return { name, action: "create", inspect, pinSubnets };
      const subnets = ((inspect.IPAM as { Config?: { Subnet?: string }[] | null } | undefined)?.Config ?? [])
        .map((c) => c.Subnet)
        .filter((s): s is string => Boolean(s));
      const conflict =
        (fixed.driver && existing.driver !== inspect.Driver) ||
        (pinSubnets && subnets.some((s) => !existing.subnets.includes(s)));
      if (!conflict) return { name, action: "keep", inspect, pinSubnets };
      const note = `exists with driver ${existing.driver}, subnet ${existing.subnets.join(",") || "none"}; the backup has ${String(inspect.Driver)}, ${subnets.join(",") || "none"}`;
      return { name, action: req.recreateNetworks ? "recreate" : "conflict", inspect, note, pinSubnets };
    });
}

/**
 * `docker network create` argv rebuilt from a saved `docker network inspect`: driver, IPAM config
 * (subnet, gateway, IP range, aux addresses), labels, options, internal, attachable, IPv6.
 * `labels` replaces the saved labels (a side-by-side copy carries its own project label);
 * `withIpam` false drops fixed subnets, which a copy next to the original could not reuse.
 */
export function networkCreateArgv(
  name: string,
  inspect: Obj,
  o: { labels?: Record<string, string>; withIpam?: boolean } = {},
): string[] {
  const argv = ["network", "create", "--driver", String(inspect.Driver ?? "bridge")];
  const ipam = (inspect.IPAM ?? {}) as { Driver?: string; Config?: Obj[] | null };
  if (o.withIpam !== false) {
    if (ipam.Driver && ipam.Driver !== "default") argv.push("--ipam-driver", ipam.Driver);
    for (const c of ipam.Config ?? []) {
      if (c.Subnet) argv.push("--subnet", String(c.Subnet));
      if (c.Gateway) argv.push("--gateway", String(c.Gateway));
      if (c.IPRange) argv.push("--ip-range", String(c.IPRange));
      for (const [k, v] of Object.entries((c.AuxiliaryAddresses ?? {}) as Obj))
        argv.push("--aux-address", `${k}=${String(v)}`);
    }
  }
  if (inspect.Internal === true) argv.push("--internal");
  if (inspect.Attachable === true) argv.push("--attachable");
  if (inspect.EnableIPv6 === true) argv.push("--ipv6");
  for (const [k, v] of Object.entries(o.labels ?? ((inspect.Labels ?? {}) as Obj)))
    argv.push("--label", `${k}=${String(v)}`);
  for (const [k, v] of Object.entries((inspect.Options ?? {}) as Obj))
    argv.push("--opt", `${k}=${String(v)}`);
  argv.push(name);
  return argv;
}

/**
 * Creates missing networks; recreates conflicting ones only when the plan says so (the request had
 * `--recreate-networks`): attached containers are disconnected, the network replaced, and they are
 * connected again.
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
    const labels = o.labels((step.inspect.Labels ?? {}) as Record<string, string>);
    const argv = networkCreateArgv(step.name, step.inspect, { labels, withIpam: step.pinSubnets });
    if (step.action === "create") {
      o.log.info(`network ${step.name}: creating`);
      await docker.run(argv, { timeoutMs: 60_000 });
      continue;
    }
    o.log.info(`network ${step.name}: recreating`);
    const r = await docker.run(["network", "inspect", step.name], { timeoutMs: 30_000 });
    const attached = Object.values(((JSON.parse(r.stdout) as Obj[])[0]?.Containers ?? {}) as Obj).map((c) =>
      String((c as Obj).Name),
    );
    for (const c of attached) await docker.run(["network", "disconnect", "-f", step.name, c]);
    await docker.run(["network", "rm", step.name], { timeoutMs: 60_000 });
    await docker.run(argv, { timeoutMs: 60_000 });
    for (const c of attached) await docker.run(["network", "connect", step.name, c], { check: false });
  }
}

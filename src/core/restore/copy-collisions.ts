import { isRecord } from "../guards.ts";
import { DOCKER_NAME } from "../names-rules.ts";
import { withProjectName } from "./copy-variable.ts";
import type { LoadedRecipe } from "./recipe.ts";
import type { CurrentState } from "./types.ts";

/**
 * What a side-by-side copy (`--as`) cannot start beside the original with: a container name its
 * compose files fix (`container_name:`; docker names are unique on a host), and a host port the
 * original's running containers publish. `compose up` would fail on either half way, after the data
 * was restored, with some of the copy's containers made. A name made from `${COMPOSE_PROJECT_NAME}`
 * alone is judged as the copy's compose makes it, `projectVariable` put for the variable
 * (copy-variable.ts); any other variable, or that one unknown, is refused unjudged. Pure; empty
 * when nothing collides.
 */
export function copyCollisions(
  recipe: LoadedRecipe,
  state: CurrentState,
  projectVariable?: string,
): string[] {
  const out: string[] = [];
  // Service names come from the compose files and the recipe: untrusted, quoted unless a plain name.
  const service = (s: string) => `service ${DOCKER_NAME.test(s) ? s : JSON.stringify(s)}`;
  const fix = "restore without --start, change it in the copy's compose files, then start it";
  for (const c of state.compose?.containerNames ?? []) {
    if (c.name) {
      // Compared with this host's containers, so a name shown is one docker holds (a valid name).
      if (state.containers.some((x) => x.name === c.name))
        out.push(
          `${service(c.service)}: container_name ${c.name} is taken (the original's container has it): ${fix}`,
        );
      continue;
    }
    const made =
      c.template !== undefined && projectVariable !== undefined
        ? withProjectName(c.template, projectVariable)
        : undefined;
    if (!made || !DOCKER_NAME.test(made)) {
      out.push(
        `${service(c.service)}: its container_name comes from a variable, so the copy's container may take the original's name; ${fix}`,
      );
      continue;
    }
    // The compose file's text (untrusted) quoted; the name made from it is a valid docker name.
    const named = `container_name ${made} (${JSON.stringify(c.template)} with the copy's .env)`;
    if (state.containers.some((x) => x.name === made))
      out.push(`${service(c.service)}: ${named} is taken on this host: ${fix}`);
    else if (recipe.unit.containers.some((x) => x.name === made))
      out.push(`${service(c.service)}: ${named} is the original's container's name: ${fix}`);
  }
  const running = new Set(state.containers.filter((x) => x.running).map((x) => x.name));
  for (const c of recipe.unit.containers) {
    if (!running.has(c.name)) continue;
    for (const port of hostPorts(recipe.inspects[c.name]))
      out.push(
        `${c.service ? service(c.service) : c.name}: host port ${port} is published by the original's ${c.name}, which runs: ${fix}, or stop the original first`,
      );
  }
  return out;
}

/** `HostConfig.PortBindings` with a fixed host port, as `[ip:]port/proto`; random ones (no port) left out. */
function hostPorts(inspect: Record<string, unknown> | undefined): string[] {
  const host = isRecord(inspect?.HostConfig) ? inspect.HostConfig : {};
  const bindings = isRecord(host.PortBindings) ? host.PortBindings : {};
  const out: string[] = [];
  for (const [container, list] of Object.entries(bindings)) {
    const proto = container.split("/")[1] ?? "tcp";
    for (const b of Array.isArray(list) ? list.filter(isRecord) : []) {
      const port = typeof b.HostPort === "string" ? b.HostPort : "";
      if (!/^\d+(-\d+)?$/.test(port) || port === "0") continue;
      // From the recorded inspect (untrusted): an address only, else quoted.
      const raw = typeof b.HostIp === "string" ? b.HostIp : "";
      const ip = !raw ? "" : /^[0-9A-Fa-f:.]+$/.test(raw) ? `${raw}:` : `${JSON.stringify(raw)}:`;
      out.push(`${ip}${port}/${proto}`);
    }
  }
  return out;
}

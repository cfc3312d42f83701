import { recordOr as obj, stringOr as str, stringsIn as strs } from "../guards.ts";
import { DOCKER_NAME } from "../names-rules.ts";

/**
 * The network of a rebuilt `docker run` (`docker-run.ts`), from a saved, untrusted inspect: its
 * network mode, and the other networks it was attached to, for the plan to name. A container that
 * shares another's network (`container:<ref>`) gets that container's name on this host from
 * `networkContainer`: docker records the other's id, which a host the unit is recovered on never
 * has, so passed on as it is it would fail the run and leave a created container behind. Sharing
 * the host's network or another's is named in the plan, as privileges are. Pure.
 */

export interface RunNetwork {
  argv: string[];
  warnings: string[];
  /** The network mode as the inspect has it, and whether it names a user-defined network. */
  mode: string;
  custom: boolean;
  /** The container whose network it shares, by its name here: it runs first. */
  joins?: string;
  /** Why the inspect's network cannot be given to `docker run`. */
  unpassable?: string;
}

export interface NetworkNames {
  networkName?: (name: string) => string;
  /** `ref` (the id or name after `container:`, checked) → that container's name here, if known. */
  networkContainer?: (ref: string) => string | undefined;
}

type Obj = Record<string, unknown>;
const id = (s: string) => s;

export function runNetwork(inspect: Obj, name: string, o: NetworkNames): RunNetwork {
  const mode = str(obj(inspect.HostConfig).NetworkMode);
  const shared = mode.startsWith("container:") ? mode.slice("container:".length) : undefined;
  const custom =
    Boolean(mode) && !["default", "bridge", "host", "none"].includes(mode) && shared === undefined;
  const out: RunNetwork = { argv: [], warnings: [], mode, custom };
  if (shared !== undefined) {
    // The reference is compared, never passed on: only a name this host answers goes into argv.
    const joins = DOCKER_NAME.test(shared) ? o.networkContainer?.(shared) : undefined;
    if (joins !== undefined && DOCKER_NAME.test(joins)) {
      out.argv.push("--network", `container:${joins}`);
      out.joins = joins;
      out.warnings.push(`${name}: uses ${joins}'s network, as recorded in the backup`);
    } else {
      const shown = /^[0-9a-f]{12,64}$/.test(shared) ? shared.slice(0, 12) : JSON.stringify(shared);
      out.unpassable = `it shares the network of container ${shown}, which is neither in this backup nor on this host`;
    }
  } else if (mode && mode !== "default" && mode !== "bridge")
    out.argv.push("--network", custom ? (o.networkName ?? id)(mode) : mode);
  // It sees and serves the host's (or the other's) interfaces and ports: said, as privileges are.
  if (mode === "host") out.warnings.push(`${name}: uses the host's network, as recorded in the backup`);
  const endpoints = obj(obj(inspect.NetworkSettings).Networks);
  const shortId = str(inspect.Id).slice(0, 12);
  const extra = Object.keys(endpoints)
    .filter((n) => n !== mode && n !== "bridge")
    .map((n) => {
      const aliases = strs(obj(endpoints[n]).Aliases).filter((a) => a !== shortId);
      return aliases.length ? `${n} (aliases ${aliases.join(", ")})` : n;
    });
  if (extra.length) out.warnings.push(`${name}: also attached to ${extra.join(", ")}; connect it by hand`);
  return out;
}

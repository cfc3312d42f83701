import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { dependsOnFromYaml } from "../discovery/compose-files.ts";
import { isRecord } from "../guards.ts";
import { bindOf } from "./compose-bind.ts";
import type { LoadedRecipe } from "./recipe.ts";

/**
 * What a unit's compose files fix themselves, read from the recipe (untrusted text: only parsed,
 * never executed or interpolated). A network's subnet Docker picked from its pool is not part of the
 * unit: a restore lets Docker pick again instead of pinning it (it may be taken on another host).
 */
export interface ComposeFacts {
  /** `version:` of the first compose file; an override file must carry the same. */
  version?: string;
  /** Per compose network key: whether the files set a driver, an IPAM config (subnet, ranges). */
  networks: Record<string, { driver: boolean; subnet: boolean }>;
  /**
   * The top-level volume and network entries that name their object themselves (`name:`,
   * `external`) or keep a volume's data elsewhere (`driver_opts`), as `-f a -f b` merges them:
   * what a side-by-side copy must rename or move (copy.ts). Absent when there is none.
   */
  fixed?: { volumes: Record<string, Obj>; networks: Record<string, Obj> };
  /** Services that share a container by name (`volumes_from`, `network_mode: container:NAME`). */
  sharing?: { service: string; key: "volumes_from" | "network_mode"; container: string }[];
  /**
   * Services that fix their container's name (`container_name:`); `name` unset: from a variable,
   * and `template` is the value as written (untrusted; copy-variable.ts resolves the one form it can).
   */
  containerNames?: { service: string; name?: string; template?: string }[];
  /**
   * Bind sources of services that name a host path outside the project directory (absolute, `~`, or a
   * variable): a copy started with compose would mount the original's, unless an override pins it,
   * which needs the container's inspect from the backup.
   */
  hostBinds?: { service: string; source: string }[];
  /** The services each service needs started first (`dependsOnFromYaml`): restore's start order. */
  dependsOn?: Record<string, string[]>;
}

export type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (isRecord(v) ? v : {});

/** Undefined when a compose file is missing or does not parse: then nothing counts as automatic. */
export function readComposeFacts(recipe: LoadedRecipe): ComposeFacts | undefined {
  const texts: string[] = [];
  for (const f of recipe.unit.composeFiles) {
    const path = join(recipe.dir, f.stored);
    if (!existsSync(path)) return undefined;
    texts.push(readFileSync(path, "utf8"));
  }
  return texts.length ? composeFacts(texts) : undefined;
}

/** Later files add to earlier ones, as `-f a -f b` merges them. Pure. */
export function composeFacts(texts: readonly string[]): ComposeFacts | undefined {
  const facts: ComposeFacts = { networks: {} };
  const merged: Record<"volumes" | "networks", Obj> = { volumes: {}, networks: {} };
  const sharing: NonNullable<ComposeFacts["sharing"]> = [];
  const named = new Map<string, { name: string } | { template: string }>();
  const hostBinds: NonNullable<ComposeFacts["hostBinds"]> = [];
  const dependsOn = new Map<string, Set<string>>();
  for (const [i, text] of texts.entries()) {
    let doc: Obj;
    try {
      doc = obj(Bun.YAML.parse(text));
    } catch {
      return undefined;
    }
    if (i === 0 && (typeof doc.version === "string" || typeof doc.version === "number"))
      facts.version = String(doc.version);
    for (const [key, raw] of Object.entries(obj(doc.networks))) {
      const n = obj(raw);
      const config = obj(n.ipam).config;
      const was = facts.networks[key] ?? { driver: false, subnet: false };
      facts.networks[key] = {
        driver: was.driver || n.driver !== undefined,
        subnet: was.subnet || (Array.isArray(config) && config.length > 0),
      };
    }
    for (const [service, deps] of Object.entries(dependsOnFromYaml(text)))
      dependsOn.set(service, new Set([...(dependsOn.get(service) ?? []), ...deps]));
    mergeInto(merged.volumes, obj(doc.volumes));
    mergeInto(merged.networks, obj(doc.networks));
    for (const x of containersShared(obj(doc.services)))
      if (!sharing.some((y) => JSON.stringify(y) === JSON.stringify(x))) sharing.push(x);
    for (const [service, raw] of Object.entries(obj(doc.services))) {
      const n = obj(raw).container_name;
      if (typeof n === "string") named.set(service, n.includes("$") ? { template: n } : { name: n });
      for (const source of hostBindSources(obj(raw).volumes))
        if (!hostBinds.some((b) => b.service === service && b.source === source))
          hostBinds.push({ service, source });
    }
  }
  const pick = (entries: Obj, keys: string[]) =>
    Object.fromEntries(
      Object.entries(entries)
        .map(([k, v]) => [k, obj(v)] as const)
        .filter(([, e]) => keys.some((key) => e[key] !== undefined && e[key] !== false)),
    );
  const fixed = {
    volumes: pick(merged.volumes, ["name", "external", "driver_opts"]),
    networks: pick(merged.networks, ["name", "external"]),
  };
  if (Object.keys(fixed.volumes).length || Object.keys(fixed.networks).length) facts.fixed = fixed;
  if (sharing.length) facts.sharing = sharing;
  if (named.size) facts.containerNames = [...named].map(([service, name]) => ({ service, ...name }));
  if (hostBinds.length) facts.hostBinds = hostBinds;
  if (dependsOn.size) facts.dependsOn = Object.fromEntries([...dependsOn].map(([k, v]) => [k, [...v]]));
  return facts;
}

/**
 * A service's `volumes:` entries that bind a host path outside the project: absolute, home or a
 * variable (a relative one moves with the copy's project directory).
 */
function hostBindSources(volumes: unknown): string[] {
  if (!Array.isArray(volumes)) return [];
  return volumes.flatMap((v) => {
    const source = bindOf(v)?.source;
    return source !== undefined && /^[/~$]/.test(source) ? [source] : [];
  });
}

/** As compose v2 merges files: mappings key by key, anything else replaced by the later file. */
function mergeInto(into: Obj, from: Obj): void {
  for (const [k, v] of Object.entries(from)) {
    if (k === "__proto__") continue; // untrusted text: an assignment to it would swap the prototype
    const was = into[k];
    if (isRecord(v) && isRecord(was)) {
      const copy = { ...was };
      mergeInto(copy, v);
      into[k] = copy;
    } else if (v !== null || !(k in into)) into[k] = v;
  }
}

function containersShared(services: Obj): NonNullable<ComposeFacts["sharing"]> {
  const found: NonNullable<ComposeFacts["sharing"]> = [];
  for (const [service, raw] of Object.entries(services)) {
    const s = obj(raw);
    const from = Array.isArray(s.volumes_from) ? s.volumes_from : [];
    for (const f of from)
      if (typeof f === "string" && f.startsWith("container:"))
        found.push({ service, key: "volumes_from", container: f.slice(10).split(":")[0] ?? "" });
    if (typeof s.network_mode === "string" && s.network_mode.startsWith("container:"))
      found.push({ service, key: "network_mode", container: s.network_mode.slice(10) });
  }
  return found;
}

/**
 * Whether a recorded network's driver and subnet were fixed by the user. Only a compose network
 * (labelled with its key) whose compose files were read can be automatic; any other network, or
 * one whose files are unknown, counts as fixed in both.
 */
export function fixedByUser(
  labels: Record<string, string>,
  facts: ComposeFacts | undefined,
): { driver: boolean; subnet: boolean } {
  const key = labels["com.docker.compose.network"];
  if (!facts || !key) return { driver: true, subnet: true };
  return facts.networks[key] ?? { driver: false, subnet: false };
}

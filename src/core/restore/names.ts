import { isRecord } from "../guards.ts";
import { pathUnder } from "../safe-paths.ts";
import type { LoadedRecipe } from "./recipe.ts";

/**
 * Names under a side-by-side copy (`--as NAME`). Objects the unit's compose project made keep their
 * key under the new project (`<as>_<key>`) and get the new project label, so docker-compose adopts
 * them; other objects (another project's too) get the new name as a prefix. In place, every name
 * stays as it was.
 */

export const PROJECT_LABEL = "com.docker.compose.project";
export const VOLUME_LABEL = "com.docker.compose.volume";
export const NETWORK_LABEL = "com.docker.compose.network";
export const SERVICE_LABEL = "com.docker.compose.service";
/** Compose v2's hash of the config an object was made from: a copy's differs (its own names). */
export const CONFIG_HASH_LABEL = "com.docker.compose.config-hash";

export interface Renamer {
  volume(name: string, labels: Record<string, string>): string;
  network(name: string, labels: Record<string, string>): string;
  labels(labels: Record<string, string>): Record<string, string>;
  container(name: string): string;
  bind(source: string): string;
  /** A volume's driver options: a local bind volume's `device` is a bind path like any other. */
  volumeOptions(options: Record<string, string>): Record<string, string>;
}

/** `project`: the unit's compose project; only its objects' keys carry over (any, when unset). */
export function renamer(as: string | undefined, targetDir: string, home?: string, project?: string): Renamer {
  if (!as) {
    return {
      volume: (n) => n,
      network: (n) => n,
      labels: (l) => ({ ...l }),
      container: (n) => n,
      bind: (s) => s,
      volumeOptions: (o) => ({ ...o }),
    };
  }
  const rename = (l: Record<string, string>, label: string, name: string) => {
    const key = project === undefined || l[PROJECT_LABEL] === project ? l[label] : undefined;
    return key ? `${as}_${key}` : `${as}_${name}`;
  };
  const bind = (s: string) => copyBindPath(s, targetDir, home);
  return {
    volume: (n, l) => rename(l, VOLUME_LABEL, n),
    network: (n, l) => rename(l, NETWORK_LABEL, n),
    // The copy is made from another config than the original's: compose must not compare hashes
    // (v2 asks to recreate a volume whose hash differs, and answers no only without a terminal).
    labels: ({ [CONFIG_HASH_LABEL]: _, ...l }) => (PROJECT_LABEL in l ? { ...l, [PROJECT_LABEL]: as } : l),
    container: (n) => `${as}_${n}`,
    bind,
    volumeOptions: (o) => {
      const device = bindDevice(o);
      return device ? { ...o, device: bind(device) } : { ...o };
    },
  };
}

/** The compose project a compose unit's containers were labelled with; undefined for standalone units. */
export function composeProjectOf(recipe: LoadedRecipe | undefined): string | undefined {
  if (recipe?.unit.type !== "compose") return undefined;
  for (const i of Object.values(recipe.inspects)) {
    const project =
      isRecord(i.Config) && isRecord(i.Config.Labels) ? i.Config.Labels[PROJECT_LABEL] : undefined;
    if (typeof project === "string" && project) return project;
  }
  return recipe.unit.unit;
}

/** `o=bind` (or `rbind`): Docker mounts the `device` directory, which holds the volume's data. */
export function isBindVolume(options: Record<string, string>): boolean {
  return (options.o ?? "").split(",").some((f) => f.trim() === "bind" || f.trim() === "rbind");
}

/** The directory a bind volume keeps its data in; undefined for any other volume. */
export function bindDevice(options: Record<string, string>): string | undefined {
  return isBindVolume(options) && options.device ? options.device : undefined;
}

/**
 * Where a side-by-side copy's bind data goes: never over the original's host paths. A source under
 * the directory the unit was backed up from (`./uploads`) keeps its place relative to the copy's
 * directory, so the copy's compose file finds it there; any other source goes under `binds/`.
 * The one place a copy's bind paths are computed: both stay under `targetDir`.
 */
export function copyBindPath(source: string, targetDir: string, home?: string): string {
  // Not normalised first: a forged `/../../etc` must fail pathUnder, not fold into `/etc`.
  const s = source.startsWith("/") ? source : `/${source}`;
  if (home && s.startsWith(`${home}/`)) return pathUnder(targetDir, s.slice(home.length + 1));
  return pathUnder(`${targetDir}/binds`, s);
}

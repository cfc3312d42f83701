import { pathUnder } from "../safe-paths.ts";

/**
 * Names under a side-by-side copy (`--as NAME`). Compose-made objects keep their key under the new
 * project (`<as>_<key>`) and get the new project label, so docker-compose adopts them; other
 * objects get the new name as a prefix. In place, every name stays as it was.
 */

export const PROJECT_LABEL = "com.docker.compose.project";
export const VOLUME_LABEL = "com.docker.compose.volume";
export const NETWORK_LABEL = "com.docker.compose.network";
export const SERVICE_LABEL = "com.docker.compose.service";

export interface Renamer {
  volume(name: string, labels: Record<string, string>): string;
  network(name: string, labels: Record<string, string>): string;
  labels(labels: Record<string, string>): Record<string, string>;
  container(name: string): string;
  bind(source: string): string;
}

export function renamer(as: string | undefined, targetDir: string, home?: string): Renamer {
  if (!as) {
    return {
      volume: (n) => n,
      network: (n) => n,
      labels: (l) => ({ ...l }),
      container: (n) => n,
      bind: (s) => s,
    };
  }
  const rename = (key: string | undefined, name: string) => (key ? `${as}_${key}` : `${as}_${name}`);
  return {
    volume: (n, l) => rename(l[VOLUME_LABEL], n),
    network: (n, l) => rename(l[NETWORK_LABEL], n),
    labels: (l) => (PROJECT_LABEL in l ? { ...l, [PROJECT_LABEL]: as } : { ...l }),
    container: (n) => `${as}_${n}`,
    bind: (s) => copyBindPath(s, targetDir, home),
  };
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

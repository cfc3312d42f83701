import type { ComposeInfo } from "./model.ts";

/** Docker Compose labels (v1 and v2 write the same keys; v2 adds `depends_on`). */
export const COMPOSE = {
  project: "com.docker.compose.project",
  service: "com.docker.compose.service",
  workingDir: "com.docker.compose.project.working_dir",
  configFiles: "com.docker.compose.project.config_files",
  dependsOn: "com.docker.compose.depends_on",
  number: "com.docker.compose.container-number",
  oneoff: "com.docker.compose.oneoff",
  version: "com.docker.compose.version",
  volume: "com.docker.compose.volume",
} as const;

/** Labels a user sets on a container to steer kopi-docka. */
export const KD = {
  exclude: "kopi-docka.exclude",
  excludeVolumes: "kopi-docka.exclude-volumes",
  stop: "kopi-docka.stop",
  mode: "kopi-docka.mode",
  /** A dump preset's name (`core/dump/presets.ts`); never a command. */
  dump: "kopi-docka.dump",
  unit: "kopi-docka.unit",
  /** Seconds `docker stop` waits for this container (checked where the plan reads it). */
  stopTimeout: "kopi-docka.stop-timeout",
} as const;

/**
 * The `kopi-docka.*` labels of a container that carry its image's value (so the image set them). Every
 * one when `image` is undefined: an image that could not be inspected may have set any of them.
 */
export function inheritedKdLabels(
  container: Record<string, string>,
  image: Record<string, string> | undefined,
): string[] {
  const fromImage = (k: string) => !image || (image[k] !== undefined && image[k] === container[k]);
  return Object.keys(container)
    .filter((k) => k.startsWith("kopi-docka.") && fromImage(k))
    .sort();
}

/** "true", "1", "yes", "on" (any case) are true; anything else is not. */
export function labelTrue(value: string | undefined): boolean {
  return value !== undefined && ["true", "1", "yes", "on"].includes(value.trim().toLowerCase());
}

/** "false", "0", "no", "off" (any case) are false. */
export function labelFalse(value: string | undefined): boolean {
  return value !== undefined && ["false", "0", "no", "off"].includes(value.trim().toLowerCase());
}

/** "a, b,,c" → ["a", "b", "c"]. */
export function splitList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** v2 label `db:service_started:false,cache:service_healthy:true` → ["db", "cache"]. */
export function parseDependsOnLabel(value: string | undefined): string[] {
  return splitList(value)
    .map((entry) => entry.split(":")[0]?.trim() ?? "")
    .filter((s) => s.length > 0);
}

/**
 * The unit a container belongs to: its compose project, else its `kopi-docka.unit` label when that
 * counts (`unitLabelTrusted`: set on the container, or by an image `backup.trust_image_labels` lists),
 * else its own name. Discovery groups containers by it, and restore decides by it what of a unit's it
 * touches on this host, so both read one rule. The project label counts whoever set it: compose v2
 * puts it on the images it builds, so an image's value cannot be told from the container's.
 */
export function unitNameOf(labels: Record<string, string>, name: string, unitLabelTrusted: boolean): string {
  return labels[COMPOSE.project] || (unitLabelTrusted ? labels[KD.unit]?.trim() : undefined) || name;
}

/** The compose facts a container's labels carry; undefined for a container compose did not create. */
export function composeFromLabels(labels: Record<string, string>): ComposeInfo | undefined {
  const project = labels[COMPOSE.project];
  if (!project) return undefined;
  const number = Number.parseInt(labels[COMPOSE.number] ?? "", 10);
  return {
    project,
    service: labels[COMPOSE.service] ?? "",
    workingDir: labels[COMPOSE.workingDir] || undefined,
    configFiles: splitList(labels[COMPOSE.configFiles]),
    dependsOn: parseDependsOnLabel(labels[COMPOSE.dependsOn]),
    containerNumber: Number.isFinite(number) ? number : undefined,
    oneoff: labelTrue(labels[COMPOSE.oneoff]),
    version: labels[COMPOSE.version] || undefined,
  };
}

/** Repository base names (tag and registry stripped) → engine. Exporters and GUIs do not match. */
const DATABASES: [RegExp, string][] = [
  [/^(postgres|postgresql|postgis|timescaledb|timescaledb-ha)$/, "postgres"],
  [/^mariadb$/, "mariadb"],
  [/^(mysql|mysql-server|percona|percona-server)$/, "mysql"],
  [/^(mongo|mongodb|mongodb-community-server)$/, "mongodb"],
  [/^(redis|redis-stack|redis-stack-server|valkey|keydb)$/, "redis"],
  [/^(elasticsearch|opensearch)$/, "elasticsearch"],
  [/^influxdb$/, "influxdb"],
  [/^(cassandra|scylla)$/, "cassandra"],
  [/^couchdb$/, "couchdb"],
  [/^(mssql|mssql-server|server)$/, "mssql"],
  [/^(clickhouse|clickhouse-server)$/, "clickhouse"],
];

/** "docker.io/library/postgres:16-alpine" → "postgres"; undefined when nothing matches. */
export function guessDatabase(image: string): string | undefined {
  const repo = image.toLowerCase().split("@")[0] ?? "";
  const last = repo.split("/").pop() ?? "";
  const name = last.split(":")[0] ?? "";
  for (const [re, engine] of DATABASES) {
    // "server" alone is too generic: only mcr.microsoft.com/mssql/server counts.
    if (re.test(name) && (name !== "server" || repo.includes("/mssql/"))) return engine;
  }
  return undefined;
}

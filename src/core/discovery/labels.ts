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
  unit: "kopi-docka.unit",
} as const;

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

/** Image-name fragments, first match wins (postgis before postgres would not matter: same engine). */
const DATABASES: [RegExp, string][] = [
  [/(^|[/_-])(postgres|postgresql|postgis|timescaledb)([:/@_-]|$)/, "postgres"],
  [/(^|[/_-])mariadb([:/@_-]|$)/, "mariadb"],
  [/(^|[/_-])(mysql|percona)([:/@_-]|$)/, "mysql"],
  [/(^|[/_-])(mongo|mongodb)([:/@_-]|$)/, "mongodb"],
  [/(^|[/_-])(redis|valkey|keydb)([:/@_-]|$)/, "redis"],
  [/(^|[/_-])(elasticsearch|opensearch)([:/@_-]|$)/, "elasticsearch"],
  [/(^|[/_-])influxdb([:/@_-]|$)/, "influxdb"],
  [/(^|[/_-])(cassandra|scylla)([:/@_-]|$)/, "cassandra"],
  [/(^|[/_-])couchdb([:/@_-]|$)/, "couchdb"],
  [/(^|[/_-])(mssql|mssql-server)([:/@_-]|$)/, "mssql"],
  [/(^|[/_-])clickhouse(-server)?([:/@_-]|$)/, "clickhouse"],
];

/** "docker.io/library/postgres:16-alpine" → "postgres"; undefined when nothing matches. */
export function guessDatabase(image: string): string | undefined {
  const name = image.toLowerCase();
  for (const [re, engine] of DATABASES) if (re.test(name)) return engine;
  return undefined;
}

import type { SnapshotManifest } from "../../../../src/core/kopia/parse.ts";
import type { LoadedRecipe } from "../../../../src/core/restore/recipe.ts";
import type { CurrentState, RestoreRequest } from "../../../../src/core/restore/types.ts";

let seq = 0;
/** A `snapshot list --json` element as kopia prints it (tags carry the `tag:` prefix). */
export function manifest(
  tags: Record<string, string>,
  o: { host?: string; incomplete?: string; size?: number; files?: number } = {},
): SnapshotManifest {
  seq++;
  return {
    id: `m${String(seq).padStart(4, "0")}`,
    source: { host: o.host ?? "h1", userName: "kopi-docka", path: `/kopi-docka/${tags.unit}/${tags.type}` },
    startTime: tags.timestamp ?? "2026-01-01T00:00:00Z",
    ...(o.incomplete ? { incomplete: o.incomplete } : {}),
    rootEntry: { obj: `k${seq}`, summ: { size: o.size ?? 100, files: o.files ?? 2, numFailed: 0 } },
    tags: Object.fromEntries(Object.entries(tags).map(([k, v]) => [`tag:${k}`, v])),
  };
}

/** The snapshots one unit's backup makes: recipe, networks, one per volume. */
export function unitBackup(
  unit: string,
  run: string,
  timestamp: string,
  volumes: string[],
  o: { host?: string; scope?: string; incompleteVolume?: string; binds?: string[] } = {},
): SnapshotManifest[] {
  const base = {
    unit,
    backup_id: `${run}-${unit}`,
    run_id: run,
    backup_scope: o.scope ?? "standard",
    timestamp,
    backup_format: "direct",
    kopi_docka_version: "0.1.0",
  };
  return [
    ...(o.scope === "minimal"
      ? []
      : [manifest({ ...base, type: "recipe" }, o), manifest({ ...base, type: "networks" }, o)]),
    ...volumes.map((v) =>
      manifest(
        { ...base, type: "volume", volume: v },
        { ...o, incomplete: v === o.incompleteVolume ? "canceled" : undefined },
      ),
    ),
    ...(o.binds ?? []).map((b) => manifest({ ...base, type: "bind", bind_source: b }, o)),
  ];
}

/** The snapshot a restore takes of a volume before overwriting it (an undo point). */
export const undoManifest = (unit = "shop", volume = "shop_db") =>
  manifest({
    type: "volume",
    unit,
    volume,
    backup_id: "restore-1",
    run_id: "restore-1",
    timestamp: "2026-01-03T00:00:00Z",
    backup_scope: "minimal",
    phase: "pre-restore",
  });

export function recipe(over: Partial<LoadedRecipe["unit"]> = {}): LoadedRecipe {
  return {
    dir: "/tmp/recipe",
    unit: {
      unit: "shop",
      type: "compose",
      composeFiles: [{ labelPath: "/srv/shop/docker-compose.yml", stored: "compose/01-docker-compose.yml" }],
      containers: [{ name: "shop_db_1", service: "db", image: "postgres:16", running: true }],
      volumes: [
        {
          name: "shop_db",
          driver: "local",
          options: {},
          labels: { "com.docker.compose.project": "shop", "com.docker.compose.volume": "db" },
          usedBy: ["shop_db_1"],
        },
      ],
      bindMounts: [],
      networks: ["shop_default"],
      fileAttributes: [],
      ...over,
    },
    inspects: { shop_db_1: { Config: { Labels: { "com.docker.compose.project": "shop" } } } },
    files: [
      { stored: "compose/01-docker-compose.yml", sha256: "aaa" },
      { stored: "project/.env", sha256: "bbb" },
    ],
    networks: [
      {
        Name: "shop_default",
        Id: "n1",
        Driver: "bridge",
        IPAM: { Config: [{ Subnet: "172.30.0.0/16" }] },
        Labels: { "com.docker.compose.project": "shop", "com.docker.compose.network": "default" },
      },
    ],
  };
}

export function emptyState(over: Partial<CurrentState> = {}): CurrentState {
  return {
    volumes: {},
    networks: {},
    containers: [],
    paths: {},
    fileHashes: {},
    restoreDir: "/opt/stacks",
    hooks: { pre_restore: "", post_restore: "" },
    // The recipe's compose files were read and take nothing from the host.
    composeUse: { paths: [], unchecked: [], elevated: [] },
    ...over,
  };
}

/** A restore of shop's point r1 on host h1, everything, in place; `over` changes any field. */
export const request = (over: Partial<RestoreRequest> = {}): RestoreRequest => ({
  host: "h1",
  unit: "shop",
  point: "shop@r1-shop",
  what: "all",
  start: false,
  recreateNetworks: false,
  ...over,
});

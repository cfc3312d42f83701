import type { VolumeInspect } from "../docker/schemas.ts";
import { type BindFilterConfig, hostInternalReason } from "./bind-filter.ts";
import type { UnitDraft } from "./group.ts";
import { COMPOSE } from "./labels.ts";
import type { BindMountInfo, NetworkInfo, SkippedItem, VolumeInfo } from "./model.ts";
import { volumeData } from "./volume-data.ts";

/** Host facts a unit's resources are looked up in. */
export interface ResourceLookups {
  volumes: ReadonlyMap<string, VolumeInspect>;
  networks: ReadonlyMap<string, Omit<NetworkInfo, "usedBy">>;
  /** What is at a host path now (injected: unit tests stay off the disk). */
  kindOf: (path: string) => BindMountInfo["kind"];
}

export interface UnitResources {
  volumes: VolumeInfo[];
  bindMounts: BindMountInfo[];
  networks: NetworkInfo[];
  skipped: SkippedItem[];
}

/** Docker's built-in networks; everything else is a custom network worth recreating. */
export const BUILTIN_NETWORKS = new Set(["bridge", "host", "none"]);

/** Why a volume is excluded by the unit's exclude list (full name, compose short name, or project_name). */
function volumeExclusion(unit: UnitDraft, name: string, v: VolumeInspect | undefined): string | undefined {
  const project = unit.containers.find((c) => c.compose)?.compose?.project;
  const short = v?.Labels[COMPOSE.volume];
  for (const [key, reason] of unit.excludeVolumes) {
    if (key === name || key === short || (project && `${project}_${key}` === name)) return reason;
  }
  return undefined;
}

/** A volume as the unit sees it; one whose data no host path holds is also listed as not protected. */
function volumeInfo(
  name: string,
  v: VolumeInspect | undefined,
  source: string,
  backup: BindFilterConfig,
  skipped: SkippedItem[],
): VolumeInfo {
  const facts = {
    driver: v?.Driver ?? "local",
    options: v?.Options ?? {},
    mountpoint: v?.Mountpoint ?? source,
  };
  const data = volumeData(facts, backup);
  if (data.kind === "not_protected") {
    skipped.push({ kind: "volume", id: name, reason: `NOT PROTECTED: ${data.reason}`, notProtected: true });
  }
  return {
    name,
    ...facts,
    labels: v?.Labels ?? {},
    scope: v?.Scope ?? "local",
    ...(data.kind === "device" ? { dataPath: data.path } : {}),
    ...(data.kind === "not_protected" ? { notProtected: data.reason } : {}),
    usedBy: [],
  };
}

/** Pure: a unit's containers → its volumes, bind mounts and custom networks, and what it leaves out. */
export function unitResources(
  unit: UnitDraft,
  lookups: ResourceLookups,
  backup: BindFilterConfig,
): UnitResources {
  const volumes = new Map<string, VolumeInfo>();
  const binds = new Map<string, BindMountInfo>();
  const networks = new Map<string, NetworkInfo>();
  const skipped: SkippedItem[] = [];
  const skippedVolumes = new Set<string>();
  for (const c of unit.containers) {
    for (const m of c.mounts) {
      if (m.type === "volume" && m.volumeName) {
        const name = m.volumeName;
        const v = lookups.volumes.get(name);
        const reason = volumeExclusion(unit, name, v);
        if (reason) {
          if (!skippedVolumes.has(name)) skipped.push({ kind: "volume", id: name, reason });
          skippedVolumes.add(name);
          continue;
        }
        const info = volumes.get(name) ?? volumeInfo(name, v, m.source, backup, skipped);
        if (!info.usedBy.includes(c.name)) info.usedBy.push(c.name);
        volumes.set(name, info);
      } else if (m.type === "bind") {
        const reason = hostInternalReason(m.source, backup);
        if (reason) {
          skipped.push({ kind: "bind", id: `${c.name}:${m.source}`, reason });
          continue;
        }
        const b = binds.get(m.source) ?? {
          source: m.source,
          targets: [],
          readOnly: true,
          kind: lookups.kindOf(m.source),
        };
        b.targets.push({ container: c.name, destination: m.destination, readOnly: m.readOnly });
        b.readOnly = b.readOnly && m.readOnly;
        binds.set(m.source, b);
      } else {
        skipped.push({
          kind: "mount",
          id: `${c.name}:${m.destination}`,
          reason: `${m.type}: not persistent`,
        });
      }
    }
    for (const n of c.networks) {
      if (BUILTIN_NETWORKS.has(n)) continue;
      const facts = lookups.networks.get(n);
      if (!facts) continue;
      const info = networks.get(n) ?? { ...facts, usedBy: [] };
      info.usedBy.push(c.name);
      networks.set(n, info);
    }
  }
  const sorted = <T>(m: Map<string, T>) =>
    [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, v]) => v);
  return { volumes: sorted(volumes), bindMounts: sorted(binds), networks: sorted(networks), skipped };
}

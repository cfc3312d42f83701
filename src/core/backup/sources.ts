import { readdirSync } from "node:fs";
import { join } from "node:path";
import type { Config, Scope } from "../../config/schema.ts";
import type { Unit } from "../discovery/model.ts";
import { dataFileRules, holdsData } from "../dump/presets.ts";
import { type DumpTarget, dumpTargets } from "../dump/targets.ts";
import { logicalSourcePath, type SnapshotTags, type SnapshotType } from "../snapshot/tags.ts";
import type { SourcePlan, UnitPlan } from "./plan-model.ts";

export interface SourceContext {
  config: Config;
  scope: Scope;
  stagingDir: string;
  /** Tags shared by every snapshot of the unit. */
  base: Omit<SnapshotTags, "type">;
}

/** Identifies one source of a unit across runs (run records key sizes by it). */
export function sourceKey(unit: string, type: SnapshotType, label: string): string {
  return `${unit}\u0000${type}\u0000${label}`;
}

/** The staging directory of one unit (`<cache_dir>/staging/<unit>`), stable across runs. */
export function unitStagingDir(stagingDir: string, unit: string): string {
  return join(stagingDir, encodeURIComponent(unit));
}

/**
 * The kopia sources of one unit for a scope, each with its tags and why it is in. Order: recipe,
 * networks, docker config (all staged while the containers still run), then volumes, then binds.
 */
export function unitSources(unit: Unit, ctx: SourceContext): Pick<UnitPlan, "sources" | "skipped"> {
  const sources: SourcePlan[] = [];
  const skipped: UnitPlan["skipped"] = [];
  const staging = unitStagingDir(ctx.stagingDir, unit.name);
  const patterns = ctx.config.backup.exclude_patterns;
  const add = (
    type: SnapshotType,
    label: string,
    path: string,
    extra: Partial<SnapshotTags>,
    reason: string,
    sizeBytes?: number,
    writtenByOthers?: string[],
  ) => {
    const tags: SnapshotTags = { ...ctx.base, type, ...extra };
    if (sizeBytes !== undefined) tags.size_bytes = String(sizeBytes);
    const data = type === "volume" || type === "bind";
    sources.push({
      type,
      label,
      path,
      logicalPath: logicalSourcePath(tags),
      tags,
      excludePatterns: data ? [...patterns] : [],
      reason: writtenByOthers?.length ? `${reason}; ALSO WRITTEN by ${writtenByOthers.join(", ")}` : reason,
      ...(sizeBytes !== undefined ? { sizeBytes } : {}),
      ...(writtenByOthers?.length ? { writtenByOthers } : {}),
    });
  };
  if (ctx.scope !== "minimal") {
    add("recipe", "recipe", join(staging, "recipe"), {}, `scope ${ctx.scope}: compose files, inspect data`);
    if (unit.networks.length > 0) {
      add(
        "networks",
        "networks",
        join(staging, "networks"),
        { network_count: String(unit.networks.length) },
        `scope ${ctx.scope}: ${unit.networks.length} custom network(s)`,
      );
    } else skipped.push({ kind: "networks", id: "networks", reason: "the unit uses no custom network" });
  }
  if (ctx.scope === "full") {
    add(
      "docker_config",
      "docker config",
      join(staging, "docker_config"),
      {},
      "scope full: /etc/docker/daemon.json and docker.service.d, when present",
    );
  }
  const targets = unit.mode === "dump" ? dumpTargets(unit, ctx.config) : [];
  // A dumped database's files, read live, would be torn (and restored, would stop it starting): its
  // dump stands for them. Only the data directory's mounts: config files and scripts are read as ever.
  type Mount = { container: string; destination: string; volume: boolean };
  const targetOf = (m: Mount) => targets.find((x) => x.container === m.container && !x.problem);
  const held = (mounts: Mount[]) =>
    mounts.length > 0 &&
    mounts.every((m) => {
      const t = targetOf(m);
      const dirs = t?.commands?.dataDirs;
      const files = t?.commands?.dataFiles ?? [];
      return (
        t !== undefined &&
        (dirs ? holdsData(m.destination, dirs) || dataFileRules(m.destination, files).held : m.volume)
      );
    });
  // The database's own files inside a mount that is read (sqlite's beside an app's other data).
  const fileRules = (mounts: Mount[]) => [
    ...new Set(
      mounts.flatMap((m) => dataFileRules(m.destination, targetOf(m)?.commands?.dataFiles ?? []).rules),
    ),
  ];
  const leaveOut = (rules: string[]) => {
    const s = sources.at(-1);
    if (!s || rules.length === 0) return;
    s.excludePatterns.push(...rules);
    s.reason += `; without the database files its dump holds (${rules.join(", ")})`;
  };
  const volumeMounts = (name: string) =>
    unit.containers.flatMap((c) =>
      c.mounts
        .filter((m) => m.type === "volume" && m.volumeName === name)
        .map((m) => ({ container: c.name, destination: m.destination, volume: true })),
    );
  const excludedVolumes = new Set(ctx.config.units[unit.name]?.exclude_volumes ?? []);
  for (const v of unit.volumes) {
    const mounts = volumeMounts(v.name);
    const rules = fileRules(mounts);
    if (held(mounts) || onlyThese(v.dataPath ?? v.mountpoint, rules)) {
      skipped.push({ kind: "volume", id: v.name, reason: `held by the dump of ${v.usedBy.join(", ")}` });
      continue;
    }
    if (excludedVolumes.has(v.name)) {
      skipped.push({ kind: "volume", id: v.name, reason: `listed in units.${unit.name}.exclude_volumes` });
      continue;
    }
    // Listed by discovery as not protected (unit.skipped): nothing on this host to read cold.
    if (v.notProtected) continue;
    add(
      "volume",
      v.name,
      v.dataPath ?? v.mountpoint,
      { volume: v.name },
      `volume used by ${v.usedBy.join(", ")}${v.dataPath ? `, read from its bind device ${v.dataPath}` : ""}`,
      v.sizeBytes,
      v.writtenByOthers,
    );
    leaveOut(rules);
  }
  for (const b of unit.bindMounts) {
    if (b.kind === "missing" || b.kind === "other") {
      const why = b.kind === "missing" ? "the host path does not exist" : "not a file or directory";
      skipped.push({ kind: "bind", id: b.source, reason: why });
      continue;
    }
    const bindMounts = b.targets.map((t) => ({ ...t, volume: false }));
    const bindRules = fileRules(bindMounts);
    if (held(bindMounts) || onlyThese(b.source, bindRules)) {
      skipped.push({ kind: "bind", id: b.source, reason: "held by the dump of its container" });
      continue;
    }
    const dest = [...new Set(b.targets.map((t) => t.destination))].join(",");
    add(
      "bind",
      b.source,
      b.source,
      { bind_source: b.source, bind_destination: dest, read_only: b.readOnly ? "true" : "false" },
      `bind mount of ${b.targets.map((t) => t.container).join(", ")}`,
      b.sizeBytes,
      b.writtenByOthers,
    );
    leaveOut(bindRules);
  }
  for (const t of targets) addDump(t, add, sources);
  for (const s of sources) s.tags.source_count = String(sources.length);
  return { sources, skipped };
}

/**
 * A directory whose entries are all among `rules` (a database's own files at its top, or none): it
 * holds nothing the dump does not stand for, so it is left to the dump as a whole, and a restore in
 * place need not stop the database to bring back an empty directory. Unreadable: not so.
 */
function onlyThese(path: string, rules: readonly string[]): boolean {
  if (rules.length === 0) return false;
  try {
    return readdirSync(path).every((name) => rules.includes(`/${name}`));
  } catch {
    return false;
  }
}

/** A dump source: its stream is kept as one file under `dumps/<container>` (`dump.ts` runs it). */
function addDump(
  t: DumpTarget,
  add: (
    type: SnapshotType,
    label: string,
    path: string,
    extra: Partial<SnapshotTags>,
    reason: string,
  ) => void,
  sources: SourcePlan[],
): void {
  const file = t.commands?.file ?? "dump";
  add(
    "dump",
    t.container || "dump",
    "",
    { dump_container: t.container, dump_file: file, ...(t.preset ? { dump_preset: t.preset } : {}) },
    t.problem ?? `${t.commands?.dump.join(" ")} in ${t.container}, streamed into kopia`,
  );
  const s = sources.at(-1);
  if (s)
    s.dump = {
      container: t.container,
      argv: t.commands?.dump ?? [],
      file,
      ...(t.problem ? { problem: t.problem } : {}),
    };
}

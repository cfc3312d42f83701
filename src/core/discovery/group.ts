import type { Config } from "../../config/schema.ts";
import { KD, labelFalse, labelTrue, splitList, unitNameOf } from "./labels.ts";
import type { BackupMode, ContainerInfo, SkippedContainer, SkippedItem, UnitType } from "./model.ts";

/** A unit before its volumes, bind mounts, networks and compose files are filled in. */
export interface UnitDraft {
  name: string;
  type: UnitType;
  containers: ContainerInfo[];
  excluded?: string;
  skipped: SkippedItem[];
  /** The containers behind the `container` items of `skipped`, with their mounts. */
  skippedContainers: SkippedContainer[];
  /** Volume names (full, or compose short names) not to back up → the reason. */
  excludeVolumes: Map<string, string>;
  mode: BackupMode;
}

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

/** Which unit a container belongs to; undefined for a stopped standalone container (not a unit). */
function unitOf(c: ContainerInfo): { name: string; type: UnitType } | undefined {
  if (c.compose) return { name: c.compose.project, type: "compose" };
  if (!c.running && c.state !== "restarting") return undefined;
  return { name: unitNameOf(c.labels, c.name), type: "standalone" };
}

/**
 * Pure: containers → units. One unit per compose project, one per running standalone container
 * (or per `kopi-docka.unit` label value). Applies the exclusion and stop rules from labels and from
 * `[units.<name>]`; every exclusion carries its reason.
 */
export function groupUnits(containers: readonly ContainerInfo[], config: Config): UnitDraft[] {
  const units = new Map<string, UnitDraft>();
  for (const c of [...containers].sort(byName)) {
    const key = unitOf(c);
    if (!key) continue;
    let unit = units.get(key.name);
    if (unit && unit.type !== key.type) {
      // A standalone unit named like a compose project would mix two histories: keep them apart.
      const clash = `${key.type}:${key.name}`;
      unit = units.get(clash);
      if (!unit) {
        unit = draft(key.name, key.type);
        unit.excluded = `the name ${key.name} is also a compose project's; set label ${KD.unit}=<other name>`;
        units.set(clash, unit);
      }
    } else if (!unit) {
      unit = draft(key.name, key.type);
      units.set(key.name, unit);
    }
    if (c.compose?.oneoff) {
      leave(unit, c, "one-off `compose run` container");
      continue;
    }
    const fromImage = untrustedImageLabel(c, config);
    if (labelTrue(c.labels[KD.exclude])) {
      if (!fromImage(KD.exclude)) {
        leave(unit, c, `label ${KD.exclude}=true`);
        continue;
      }
      ignore(c, `${KD.exclude}=true`, `[units.${unit.name}] exclude = true`);
    }
    if (fromImage(KD.excludeVolumes)) {
      ignore(
        c,
        `${KD.excludeVolumes}=${c.labels[KD.excludeVolumes]}`,
        `[units.${unit.name}] exclude_volumes`,
      );
    } else {
      for (const v of splitList(c.labels[KD.excludeVolumes])) {
        unit.excludeVolumes.set(v, `label ${KD.excludeVolumes} on ${c.name}`);
      }
    }
    const confirmed = config.units[unit.name]?.mode;
    if (c.mode && c.mode !== confirmed && fromImage(KD.mode)) {
      ignore(c, `${KD.mode}=${c.mode}`, `[units.${unit.name}] mode = "${c.mode}"`);
      if (c.mode === "live") c.stop = fromImage(KD.stop) || !labelFalse(c.labels[KD.stop]);
      delete c.mode;
    }
    // A dump preset leaves the database's data volume to its dump (not snapshotted).
    if (c.dump !== undefined && fromImage(KD.dump)) {
      ignore(c, `${KD.dump}=${c.dump}`, `[units.${unit.name}] dump = "${c.dump}"`);
      delete c.dump;
    }
    // How long a stop may hold the unit down is the admin's to say, not an image's.
    if (c.stopTimeoutLabel !== undefined && fromImage(KD.stopTimeout)) {
      ignore(c, `${KD.stopTimeout}=${c.stopTimeoutLabel}`, `[units.${unit.name}] stop_timeout`);
      delete c.stopTimeoutLabel;
    }
    if (!c.stop && fromImage(KD.stop)) {
      c.stop = true;
      ignore(c, `${KD.stop}=${c.labels[KD.stop]}`, `[units.${unit.name}] stop = false`);
    }
    unit.containers.push(c);
  }
  for (const unit of units.values()) applyConfig(unit, config);
  return [...units.values()].sort(byName);
}

/**
 * Leaves a container out of its unit's backup. Its mounts are kept: it is not stopped either, so a
 * source it writes is read live (`markShared`).
 */
function leave(unit: UnitDraft, c: ContainerInfo, reason: string): void {
  unit.skipped.push({ kind: "container", id: c.name, reason });
  unit.skippedContainers.push({ name: c.name, running: c.running, mounts: c.mounts, reason });
}

/**
 * An image's labels are chosen by whoever built it, not by this host's admin: a `kopi-docka.*` label
 * the container only inherits, from an image not listed in `backup.trust_image_labels`, may not leave
 * data out (exclude, exclude-volumes, a dump preset), back it up live (stop=false) or set how long
 * its stop may take (stop-timeout) until the config confirms it.
 */
function untrustedImageLabel(c: ContainerInfo, config: Config): (label: string) => boolean {
  const trusted = config.backup.trust_image_labels.includes(imageRepository(c.image));
  return (label) => !trusted && (c.imageLabels ?? []).includes(label);
}

/** "reg:5000/acme/app:1.2@sha256:…" → "reg:5000/acme/app". */
export function imageRepository(image: string): string {
  const noDigest = image.split("@")[0] ?? "";
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

function ignore(c: ContainerInfo, label: string, confirm: string): void {
  const note =
    `image label ${label} ignored (the image sets it): confirm with ${confirm}, ` +
    `or trust the image's labels with backup.trust_image_labels = ["${imageRepository(c.image)}"]`;
  c.ignoredLabels = [...(c.ignoredLabels ?? []), note];
}

/**
 * A `dump`, `fs-snapshot` or `warm-then-cold` label on any container makes the unit so (in that order:
 * the shorter window first); "live" when nothing of it is stopped.
 */
function labelledMode(containers: readonly ContainerInfo[]): BackupMode {
  if (containers.some((c) => c.mode === "dump")) return "dump";
  if (containers.some((c) => c.mode === "fs-snapshot")) return "fs-snapshot";
  if (containers.some((c) => c.mode === "warm-then-cold")) return "warm-then-cold";
  if (containers.length > 0 && containers.every((c) => !c.stop)) return "live";
  return "cold";
}

function draft(name: string, type: UnitType): UnitDraft {
  return {
    name,
    type,
    containers: [],
    skipped: [],
    skippedContainers: [],
    excludeVolumes: new Map(),
    mode: "cold",
  };
}

function applyConfig(unit: UnitDraft, config: Config): void {
  const override = config.units[unit.name];
  if (override) {
    for (const v of override.exclude_volumes) {
      if (!unit.excludeVolumes.has(v))
        unit.excludeVolumes.set(v, `config [units.${unit.name}] exclude_volumes`);
    }
    if (!override.stop || override.mode === "live") for (const c of unit.containers) c.stop = false;
    if (override.exclude) unit.excluded ??= `config [units.${unit.name}] exclude = true`;
  }
  unit.mode = override?.mode ?? labelledMode(unit.containers);
  if (unit.containers.length === 0 && !unit.excluded) {
    unit.excluded =
      unit.skipped.length > 0
        ? `every container is excluded (${unit.skipped.map((s) => `${s.id}: ${s.reason}`).join("; ")})`
        : "no containers";
  }
}

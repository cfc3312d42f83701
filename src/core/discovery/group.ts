import type { Config } from "../../config/schema.ts";
import { distrustImageLabels, ignoreImageLabel as ignore, untrustedImageLabel } from "./image-trust.ts";
import { KD, labelTrue, unitNameOf } from "./labels.ts";
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

/** A container's unit; `clash` says why a standalone container under a compose project's name is left out. */
interface Membership {
  name: string;
  type: UnitType;
  clash?: string;
}

/**
 * Which unit a container belongs to; undefined for a stopped standalone container (not a unit). A
 * compose project keeps its name whichever container sorts first: a standalone container that claims
 * it (by `kopi-docka.unit` or by its own name) is left out, since a unit is either a project, which a
 * restore starts with compose, or standalone containers, each rebuilt with `docker run`; not both.
 */
function unitOf(c: ContainerInfo, config: Config, projects: ReadonlySet<string>): Membership | undefined {
  // From an untrusted image the unit label could put its containers in a unit whose backup then stops
  // them, or take a compose project's name. Restore reads it alike (`restore/host-units.ts`).
  const fromImage = untrustedImageLabel(c, config)(KD.unit);
  const name = unitNameOf(c.labels, c.name, !fromImage);
  if (c.compose) return { name, type: "compose" };
  if (!c.running && c.state !== "restarting") return undefined;
  const label = c.labels[KD.unit]?.trim();
  if (label && fromImage) ignore(c, `${KD.unit}=${label}`);
  const labelled = !fromImage && Boolean(label);
  if (!projects.has(name)) return { name, type: "standalone" };
  const how = labelled ? `labelled ${KD.unit}=${name}` : `named ${name}`;
  return { name, type: "compose", clash: `standalone container ${how}, a compose project's name` };
}

/** What to do about a clash: a unit never mixes a compose project with standalone containers. */
const CLASH_FIX =
  "NOT backed up (a unit is one compose project or standalone containers, never both): " +
  `add it to the project's compose file, or recreate it with label ${KD.unit}=<a name of its own>`;

/**
 * Pure: containers → units. One unit per compose project, one per running standalone container
 * (or per `kopi-docka.unit` label value). Applies the exclusion and stop rules from labels and from
 * `[units.<name>]`; every exclusion carries its reason.
 */
export function groupUnits(containers: readonly ContainerInfo[], config: Config): UnitDraft[] {
  const projects = new Set(containers.flatMap((c) => (c.compose ? [c.compose.project] : [])));
  const units = new Map<string, UnitDraft>();
  for (const c of [...containers].sort(byName)) {
    const key = unitOf(c, config, projects);
    if (!key) continue;
    let unit = units.get(key.name);
    if (!unit) {
      unit = draft(key.name, key.type);
      units.set(key.name, unit);
    }
    if (key.clash) {
      leave(unit, c, key.clash, CLASH_FIX);
      continue;
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
    for (const v of distrustImageLabels(c, unit.name, config)) {
      unit.excludeVolumes.set(v, `label ${KD.excludeVolumes} on ${c.name}`);
    }
    unit.containers.push(c);
  }
  for (const unit of units.values()) applyConfig(unit, config);
  return [...units.values()].sort(byName);
}

/**
 * Leaves a container out of its unit's backup. Its mounts are kept: it is not stopped either, so a
 * source it writes is read live (`markShared`). `notProtected`: the admin did not choose this, so
 * `list` and every backup say so.
 */
function leave(unit: UnitDraft, c: ContainerInfo, reason: string, notProtected?: string): void {
  unit.skipped.push(
    notProtected
      ? { kind: "container", id: c.name, reason: `${reason}: ${notProtected}`, notProtected: true }
      : { kind: "container", id: c.name, reason },
  );
  unit.skippedContainers.push({ name: c.name, running: c.running, mounts: c.mounts, reason });
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

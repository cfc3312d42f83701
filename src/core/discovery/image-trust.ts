import type { Config } from "../../config/schema.ts";
import { COMPOSE, inheritedKdLabels, KD, labelFalse, splitList } from "./labels.ts";
import type { ComposeInfo, ContainerInfo } from "./model.ts";

/**
 * An image's labels are chosen by whoever built it, not by this host's admin: a `kopi-docka.*` label
 * the container only inherits, from an image not listed in `backup.trust_image_labels`, may not leave
 * data out (exclude, exclude-volumes, a dump preset), back it up live (stop=false) or set how long its
 * stop may take (stop-timeout) until the config confirms it, nor move the container into another unit
 * (unit) unless the image is trusted.
 */
export function untrustedImageLabel(
  c: Pick<ContainerInfo, "image" | "imageLabels">,
  config: Config,
): (label: string) => boolean {
  const trusted = imageTrusted(c.image, config);
  return (label) => !trusted && (c.imageLabels ?? []).includes(label);
}

/** Whether the admin trusts the labels of image `image` (a container's `Config.Image`). */
export function imageTrusted(image: string, config: Config): boolean {
  return config.backup.trust_image_labels.includes(imageRepository(image));
}

/** "reg:5000/acme/app:1.2@sha256:…" → "reg:5000/acme/app". */
export function imageRepository(image: string): string {
  const noDigest = image.split("@")[0] ?? "";
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/**
 * Marks which of a container's labels its image may have set, given the image's labels, or undefined
 * when the image could not be inspected (`docker rmi -f` deletes the image of a stopped container, which
 * may then be started again). Nobody can tell then which labels the image set, so unless the config
 * trusts it, every `kopi-docka.*` label counts as the image's and compose's host paths are not read:
 * ignoring a label only ever backs up or stops more.
 */
export function markImageLabels(
  c: ContainerInfo,
  image: Record<string, string> | undefined,
  config: Config,
): void {
  if (!image) c.imageUnknown = true;
  const inherited = inheritedKdLabels(c.labels, image);
  if (inherited.length > 0) c.imageLabels = inherited;
  if (c.compose) c.compose = withoutImagePaths(c, c.compose, image, config);
}

/**
 * A compose container's working dir and config files, unless its image's labels carry the same values
 * (or may, the image being unknown and untrusted): compose sets them on the container it creates, while
 * an image could name any host file for the backup to read and copy into the repository, beside its
 * `.env` and `*.conf`.
 */
function withoutImagePaths(
  c: ContainerInfo,
  compose: ComposeInfo,
  image: Record<string, string> | undefined,
  config: Config,
): ComposeInfo {
  const unknown = !image && !imageTrusted(c.image, config);
  const fromImage = (k: string) => {
    if (c.labels[k] === undefined) return false;
    if (!unknown) return image?.[k] === c.labels[k];
    // A known image's copy is dropped silently: it can only be the image's. This one may be compose's.
    ignoreImageLabel(c, `${k}=${c.labels[k]}`);
    return true;
  };
  return {
    ...compose,
    workingDir: fromImage(COMPOSE.workingDir) ? undefined : compose.workingDir,
    configFiles: fromImage(COMPOSE.configFiles) ? [] : compose.configFiles,
  };
}

/**
 * Notes on the container (`list` shows it) that an image label was ignored, and how to make it count:
 * `confirm` is the config that does, when there is one.
 */
export function ignoreImageLabel(c: ContainerInfo, label: string, confirm?: string): void {
  const trust = `trust the image's labels with backup.trust_image_labels = ["${imageRepository(c.image)}"]`;
  const why = c.imageUnknown
    ? `label ${label} ignored (its image ${c.image} could not be inspected, so it may have set it)`
    : `image label ${label} ignored (the image sets it)`;
  const note = `${why}: ${confirm ? `confirm with ${confirm}, or ${trust}` : trust}`;
  c.ignoredLabels = [...(c.ignoredLabels ?? []), note];
}

/**
 * Undoes what an untrusted image's labels would change about how a member container of unit `unit`
 * is read (its mode, its dump preset, not stopping it), unless `[units.<unit>]` confirms the mode.
 * Returns the volumes its `kopi-docka.exclude-volumes` label leaves out: none when the image set it.
 */
export function distrustImageLabels(c: ContainerInfo, unit: string, config: Config): string[] {
  const fromImage = untrustedImageLabel(c, config);
  let excludeVolumes = splitList(c.labels[KD.excludeVolumes]);
  if (fromImage(KD.excludeVolumes)) {
    const label = `${KD.excludeVolumes}=${c.labels[KD.excludeVolumes]}`;
    ignoreImageLabel(c, label, `[units.${unit}] exclude_volumes`);
    excludeVolumes = [];
  }
  const confirmed = config.units[unit]?.mode;
  if (c.mode && c.mode !== confirmed && fromImage(KD.mode)) {
    ignoreImageLabel(c, `${KD.mode}=${c.mode}`, `[units.${unit}] mode = "${c.mode}"`);
    if (c.mode === "live") c.stop = fromImage(KD.stop) || !labelFalse(c.labels[KD.stop]);
    delete c.mode;
  }
  // A dump preset leaves the database's data volume to its dump (not snapshotted).
  if (c.dump !== undefined && fromImage(KD.dump)) {
    ignoreImageLabel(c, `${KD.dump}=${c.dump}`, `[units.${unit}] dump = "${c.dump}"`);
    delete c.dump;
  }
  // How long a stop may hold the unit down is the admin's to say, not an image's.
  if (c.stopTimeoutLabel !== undefined && fromImage(KD.stopTimeout)) {
    ignoreImageLabel(c, `${KD.stopTimeout}=${c.stopTimeoutLabel}`, `[units.${unit}] stop_timeout`);
    delete c.stopTimeoutLabel;
  }
  if (!c.stop && fromImage(KD.stop)) {
    c.stop = true;
    ignoreImageLabel(c, `${KD.stop}=${c.labels[KD.stop]}`, `[units.${unit}] stop = false`);
  }
  return excludeVolumes;
}

import type { Config } from "../../config/schema.ts";
import { imageTrusted } from "../discovery/image-trust.ts";
import { COMPOSE, inheritedKdLabels, KD, unitNameOf } from "../discovery/labels.ts";
import type { Docker } from "../docker/docker.ts";
import type { ContainerInspect } from "../docker/schemas.ts";
import type { ContainerState } from "./types.ts";

/**
 * Which containers' `kopi-docka.unit` label is not theirs to count, as discovery reads it: "image" when
 * an image `backup.trust_image_labels` does not list set it, "unknown" when that image is gone (`docker
 * rmi -f` deletes a stopped container's image), so nobody can tell. One image inspect, of
 * the images of only the containers it could matter for: a unit label, no compose project (which
 * decides first), an untrusted image.
 */
export async function imageUnitLabels(
  docker: Docker,
  containers: readonly ContainerInspect[],
  config: Config,
): Promise<Map<string, NonNullable<ContainerState["unitLabel"]>>> {
  const claims = (c: ContainerInspect) => {
    const labels = c.Config.Labels ?? {};
    return (
      !labels[COMPOSE.project] && Boolean(labels[KD.unit]?.trim()) && !imageTrusted(c.Config.Image, config)
    );
  };
  const labelled = containers.filter(claims);
  if (labelled.length === 0) return new Map();
  const images = await docker.imageInspect([...new Set(labelled.map((c) => c.Image))]);
  const labelsOf = new Map(images.map((i) => [i.Id, i.Config.Labels]));
  const out = new Map<string, NonNullable<ContainerState["unitLabel"]>>();
  for (const c of labelled) {
    const image = labelsOf.get(c.Image);
    if (!image) out.set(c.Id, "unknown");
    else if (inheritedKdLabels(c.Config.Labels ?? {}, image).includes(KD.unit)) out.set(c.Id, "image");
  }
  return out;
}

/**
 * The unit a container on this host belongs to, by discovery's rule (`unitNameOf`). Undefined when its
 * image is gone and its unit label names another unit than its name: the label may be its own or a
 * hostile image's, and an unknown provenance must never widen what a restore replaces, so such a
 * container is a member of no unit: a volume it mounts is foreign, a dump is not fed into it, and it is
 * not taken for the unit's client (a guess either way could replace or stop another unit's). Here
 * alone restore differs from discovery, which must back the container up somewhere and so takes the
 * backup's safe guess: the label is the image's, the container a unit of its own (`image-trust.ts`).
 */
export function unitOnHost(c: Pick<ContainerState, "name" | "labels" | "unitLabel">): string | undefined {
  const labels = c.labels ?? {};
  if (c.unitLabel !== "unknown") return unitNameOf(labels, c.name, c.unitLabel !== "image");
  const own = unitNameOf(labels, c.name, true);
  return own === unitNameOf(labels, c.name, false) ? own : undefined;
}

/** "unit NAME", or what is known of a container whose unit cannot be told (`unitOnHost`), for refusals. */
export function unitOnHostText(c: Pick<ContainerState, "name" | "labels" | "unitLabel">): string {
  const unit = unitOnHost(c);
  return unit !== undefined
    ? `unit ${unit}`
    : `an unknown unit (${c.name}'s image is gone, so whether its label ${KD.unit}=${c.labels?.[KD.unit]?.trim()} is its own or the image's cannot be told)`;
}

import { z } from "zod";
import { composeFromLabels, guessDatabase, KD, labelFalse } from "./labels.ts";
import type { ContainerInfo, MountInfo } from "./model.ts";

/** Docker writes `null` for empty maps and lists; these read both as empty. */
const stringMap = z
  .record(z.string(), z.string())
  .nullish()
  .transform((v) => v ?? {});
const stringList = z
  .array(z.string())
  .nullish()
  .transform((v) => v ?? []);

const MountSchema = z.looseObject({
  Type: z.string().default("volume"),
  Name: z.string().optional(),
  Source: z.string().default(""),
  Destination: z.string(),
  RW: z.boolean().default(true),
});

export const ContainerInspectSchema = z.looseObject({
  Id: z.string(),
  Name: z.string(),
  Image: z.string(),
  State: z.looseObject({
    Status: z.string(),
    Running: z.boolean(),
    Paused: z.boolean().optional(),
    Health: z.looseObject({ Status: z.string() }).nullish(),
  }),
  Config: z.looseObject({
    Image: z.string(),
    Labels: stringMap,
    Env: stringList,
    StopTimeout: z.number().nullish(),
  }),
  HostConfig: z
    .looseObject({
      RestartPolicy: z.looseObject({ Name: z.string().optional() }).nullish(),
      Tmpfs: stringMap,
    })
    .prefault({}),
  Mounts: z
    .array(MountSchema)
    .nullish()
    .transform((v) => v ?? []),
  NetworkSettings: z
    .looseObject({ Networks: z.record(z.string(), z.unknown()).nullish() })
    .nullish()
    .transform((v) => v ?? {}),
});

export const VolumeInspectSchema = z.looseObject({
  Name: z.string(),
  Driver: z.string().default("local"),
  Options: stringMap,
  Labels: stringMap,
  Mountpoint: z.string().default(""),
  Scope: z.string().default("local"),
});
export type VolumeInspect = z.infer<typeof VolumeInspectSchema>;

export const NetworkInspectSchema = z.looseObject({
  Name: z.string(),
  Id: z.string(),
  Driver: z.string().default(""),
});

export const ImageInspectSchema = z.looseObject({
  Id: z.string(),
  RepoDigests: stringList,
  Config: z
    .looseObject({ Labels: stringMap })
    .nullish()
    .transform((v) => v ?? { Labels: {} }),
});

const HEALTH = ["starting", "healthy", "unhealthy"] as const;
const MOUNT_TYPES: MountInfo["type"][] = ["volume", "bind", "tmpfs", "npipe", "cluster"];

/** `["A=1", "B"]` → `{ A: "1", B: "" }`. */
export function parseEnv(env: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of env) {
    const i = entry.indexOf("=");
    if (i < 0) out[entry] = "";
    else out[entry.slice(0, i)] = entry.slice(i + 1);
  }
  return out;
}

/** One `docker inspect` object → ContainerInfo. Pure; `imageDigests` comes from the image inspect. */
export function toContainerInfo(raw: unknown, imageDigests: readonly string[] = []): ContainerInfo {
  const c = ContainerInspectSchema.parse(raw);
  const labels = c.Config.Labels;
  const mounts: MountInfo[] = c.Mounts.map((m) => ({
    type: MOUNT_TYPES.includes(m.Type as MountInfo["type"]) ? (m.Type as MountInfo["type"]) : "cluster",
    source: m.Source,
    destination: m.Destination,
    readOnly: !m.RW,
    ...(m.Type === "volume" && m.Name ? { volumeName: m.Name } : {}),
  }));
  // `--tmpfs` / compose `tmpfs:` appear only in HostConfig.Tmpfs, not in Mounts.
  for (const [destination, options] of Object.entries(c.HostConfig.Tmpfs)) {
    if (mounts.some((m) => m.destination === destination)) continue;
    mounts.push({ type: "tmpfs", source: "", destination, readOnly: /(^|,)ro(,|$)/.test(options) });
  }
  const health = c.State.Health?.Status;
  const info: ContainerInfo = {
    id: c.Id,
    name: c.Name.replace(/^\//, ""),
    image: c.Config.Image,
    imageId: c.Image,
    imageDigests: [...imageDigests],
    state: c.State.Status,
    running: c.State.Running,
    restartPolicy: c.HostConfig.RestartPolicy?.Name || "no",
    labels,
    env: parseEnv(c.Config.Env),
    mounts,
    networks: Object.keys(c.NetworkSettings.Networks ?? {}),
    stop: !labelFalse(labels[KD.stop]),
    inspect: raw as Record<string, unknown>,
  };
  if (c.State.Paused) info.paused = true;
  if (health && (HEALTH as readonly string[]).includes(health))
    info.health = health as ContainerInfo["health"];
  const compose = composeFromLabels(labels);
  if (compose) info.compose = compose;
  const database = guessDatabase(c.Config.Image);
  if (database) info.database = database;
  if (typeof c.Config.StopTimeout === "number") info.stopTimeout = c.Config.StopTimeout;
  return info;
}

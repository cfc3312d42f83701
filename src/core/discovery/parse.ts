import type { ContainerInspect } from "../docker/schemas.ts";
import { composeFromLabels, guessDatabase, KD, labelFalse } from "./labels.ts";
import { BACKUP_MODES, type ContainerInfo, type MountInfo } from "./model.ts";

const HEALTH = ["starting", "healthy", "unhealthy"] as const;
const MOUNT_TYPES = ["volume", "bind", "tmpfs", "npipe", "cluster"] as const;
const isHealth = (s: string | undefined): s is NonNullable<ContainerInfo["health"]> =>
  HEALTH.some((h) => h === s);
const mountType = (s: string): MountInfo["type"] => MOUNT_TYPES.find((t) => t === s) ?? "cluster";

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

/** One parsed `docker inspect` object → ContainerInfo. Pure; `imageDigests` comes from the image inspect. */
export function toContainerInfo(c: ContainerInspect, imageDigests: readonly string[] = []): ContainerInfo {
  const labels = c.Config.Labels ?? {};
  const mounts: MountInfo[] = (c.Mounts ?? []).map((m) => ({
    type: mountType(m.Type ?? "volume"),
    source: m.Source ?? "",
    destination: m.Destination,
    readOnly: m.RW === false,
    ...((m.Type ?? "volume") === "volume" && m.Name ? { volumeName: m.Name } : {}),
  }));
  // `--tmpfs` / compose `tmpfs:` appear only in HostConfig.Tmpfs, not in Mounts.
  for (const [destination, options] of Object.entries(c.HostConfig?.Tmpfs ?? {})) {
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
    restartPolicy: c.HostConfig?.RestartPolicy?.Name || "no",
    labels,
    env: parseEnv(c.Config.Env ?? []),
    mounts,
    networks: Object.keys(c.NetworkSettings?.Networks ?? {}),
    stop: !labelFalse(labels[KD.stop]),
    inspect: c,
  };
  const mode = BACKUP_MODES.find((m) => m === labels[KD.mode]?.trim().toLowerCase());
  if (mode) info.mode = mode;
  if (mode === "live") info.stop = false;
  const dump = labels[KD.dump]?.trim();
  if (dump) info.dump = dump;
  const stopTimeout = labels[KD.stopTimeout];
  if (stopTimeout !== undefined) info.stopTimeoutLabel = stopTimeout;
  if (c.State.Paused) info.paused = true;
  if (isHealth(health)) info.health = health;
  const compose = composeFromLabels(labels);
  if (compose) info.compose = compose;
  const database = guessDatabase(c.Config.Image);
  if (database) info.database = database;
  if (typeof c.Config.StopTimeout === "number") info.stopTimeout = c.Config.StopTimeout;
  if (c.HostConfig?.AutoRemove === true) info.autoRemove = true;
  return info;
}

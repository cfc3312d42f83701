import { isAbsolute, join, posix } from "node:path";
import { isRecord } from "../guards.ts";
import { isAtOrUnder } from "./bind-filter.ts";
import { COMPOSE } from "./labels.ts";
import type { ComposeFileInfo, ContainerInfo } from "./model.ts";

/** The file system as compose-file resolution sees it (injected so the logic stays testable). */
export interface ComposeFs {
  exists(path: string): boolean;
  /** The file's text, or undefined when it cannot be read. */
  readText(path: string): string | undefined;
}

/** A container mount seen from the host: what is at `destination` inside lives at `source` outside. */
export interface MountEntry {
  destination: string;
  source: string;
}

/** Every container's mounts, longest destination first (the most specific translation wins). */
export function mountTable(containers: readonly ContainerInfo[]): MountEntry[] {
  const entries = containers.flatMap((c) =>
    c.mounts
      .filter((m) => (m.type === "bind" || m.type === "volume") && m.source !== "")
      .map((m) => ({ destination: m.destination, source: m.source })),
  );
  return entries.sort((a, b) => b.destination.length - a.destination.length);
}

/**
 * Where a compose file named in the labels is on this host. v1 paths may be relative to the working
 * dir; v2 paths are absolute. A path that does not exist here was seen from inside a manager container
 * (Portainer keeps stacks under its own `/data`): translate it through the mount table and keep the
 * first translation that exists.
 */
export function resolveComposePath(
  labelPath: string,
  workingDir: string | undefined,
  table: readonly MountEntry[],
  fs: ComposeFs,
): ComposeFileInfo {
  const candidate = isAbsolute(labelPath) || !workingDir ? labelPath : join(workingDir, labelPath);
  if (isAbsolute(candidate) && fs.exists(candidate)) return { labelPath, hostPath: candidate, found: true };
  for (const m of table) {
    if (!isAtOrUnder(candidate, m.destination)) continue;
    const rest = posix.relative(m.destination, candidate);
    const hostPath = rest ? join(m.source, rest) : m.source;
    if (fs.exists(hostPath)) return { labelPath, hostPath, found: true };
  }
  return { labelPath, found: false };
}

/** The unit's compose files: the labels' files of all its containers, first-seen order, resolved. */
export function composeFilesOf(
  containers: readonly ContainerInfo[],
  table: readonly MountEntry[],
  fs: ComposeFs,
): ComposeFileInfo[] {
  const seen = new Map<string, ComposeFileInfo>();
  for (const c of containers) {
    for (const p of c.compose?.configFiles ?? []) {
      if (!seen.has(p)) seen.set(p, resolveComposePath(p, c.compose?.workingDir, table, fs));
    }
  }
  return [...seen.values()];
}

/**
 * The services each service of compose YAML needs started first: its `depends_on` (list or map form),
 * the service whose network it uses (`network_mode: service:X`) and those it takes volumes from
 * (`volumes_from: [X]`, `service:X`; a `container:NAME` is no service). {} when it does not parse.
 */
export function dependsOnFromYaml(text: string): Record<string, string[]> {
  let doc: unknown;
  try {
    doc = Bun.YAML.parse(text);
  } catch {
    return {};
  }
  if (!isRecord(doc) || !isRecord(doc.services)) return {};
  const out: Record<string, string[]> = {};
  for (const [name, svc] of Object.entries(doc.services)) {
    if (!isRecord(svc)) continue;
    const deps = svc.depends_on;
    const named = Array.isArray(deps)
      ? deps.filter((d): d is string => typeof d === "string")
      : isRecord(deps)
        ? Object.keys(deps)
        : [];
    const mode = typeof svc.network_mode === "string" ? svc.network_mode : "";
    const network = mode.startsWith("service:") ? [mode.slice("service:".length)] : [];
    const volumes = (Array.isArray(svc.volumes_from) ? svc.volumes_from : [])
      .filter((v): v is string => typeof v === "string" && !v.startsWith("container:"))
      .map((v) => v.replace(/^service:/, "").replace(/:(ro|rw)$/, ""));
    const all = [...new Set([...named, ...network, ...volumes])].filter((s) => s.length > 0);
    if (all.length && name !== "__proto__") out[name] = all;
  }
  return out;
}

/**
 * Fills `compose.dependsOn` from the compose files for containers without the v2 label (compose v1
 * never wrote one). Later files add to earlier ones, as `-f a -f b` merges them.
 */
export function fillDependsOn(
  containers: readonly ContainerInfo[],
  files: readonly ComposeFileInfo[],
  fs: ComposeFs,
) {
  const needing = containers.filter((c) => c.compose && c.labels[COMPOSE.dependsOn] === undefined);
  if (needing.length === 0) return;
  const merged: Record<string, Set<string>> = {};
  for (const f of files) {
    const text = f.hostPath ? fs.readText(f.hostPath) : undefined;
    if (text === undefined) continue;
    for (const [svc, deps] of Object.entries(dependsOnFromYaml(text))) {
      merged[svc] ??= new Set();
      for (const d of deps) merged[svc].add(d);
    }
  }
  for (const c of needing) {
    if (c.compose) c.compose.dependsOn = [...(merged[c.compose.service] ?? [])];
  }
}

import { z } from "zod";
import { errorMessage } from "../caught.ts";
import { AppError } from "../errors.ts";
import { parseKopiaJson } from "../kopia/parse.ts";
import { backendOf } from "./backends/index.ts";
import type { OpenDeps } from "./open.ts";
import { classifyStorageError } from "./problems.ts";
import { readMarker, readSavedConnection } from "./saved.ts";
import { lookUpPeer, pingPeer } from "./tailscale-cli.ts";

export interface RepositoryStatusReport {
  backend: string;
  /** Where, without any secret. */
  location: string;
  connected: boolean;
  /** Why not connected (or why the repository could not be read). */
  problem?: string;
  snapshots?: number;
  units?: number;
  /** Bytes the repository occupies in its storage (`blob stats`). */
  sizeBytes?: number;
  /** How it hashes, encrypts and splits, fixed when it was created (not shown through a server). */
  format?: { hash?: string; encryption?: string; splitter?: string };
  maintenanceOwner?: string;
  /** A repository server maintains its repository itself (kopia refuses maintenance from a client). */
  maintenanceByServer?: boolean;
  lastMaintenance?: { kind: string; end: string; success: boolean };
  maxUploadSpeed: number;
  maxDownloadSpeed: number;
  /** The tailnet peer of a tailscale repository: its state and one `tailscale ping`. */
  peer?: { name: string; address?: string; online: boolean; latencyMs?: number; via?: string };
  /** The location this host last connected to, and since when (kept after a disconnect). */
  lastConnected?: { location: string; at: string };
}

const Run = z.looseObject({ end: z.string().optional(), success: z.boolean().optional() });
const MaintenanceInfo = z.looseObject({
  owner: z.string().optional(),
  schedule: z.looseObject({ runs: z.record(z.string(), z.array(Run)).nullish() }).optional(),
});

/** What `repo status` shows. Reads only; never connects, reconnects or creates. */
export async function repositoryStatus(d: OpenDeps): Promise<RepositoryStatusReport> {
  let repo: typeof d.config.repository & { address?: string } = d.config.repository;
  const backend = backendOf(repo);
  const marker = readMarker(d.paths.stateDir);
  const report: RepositoryStatusReport = {
    backend: repo.backend,
    location: backend.describe(repo),
    connected: false,
    maxUploadSpeed: repo.max_upload_speed,
    maxDownloadSpeed: repo.max_download_speed,
    ...(marker ? { lastConnected: { location: marker.location, at: marker.connectedAt } } : {}),
  };
  if (repo.backend === "tailscale") {
    try {
      const peer = await lookUpPeer(d.runner, repo.peer);
      report.peer = { ...peer, ...(peer.online ? await pingPeer(d.runner, peer.name) : {}) };
      repo = { ...repo, address: peer.address };
      if (!peer.online) return { ...report, problem: `tailnet peer ${peer.name} is offline` };
    } catch (e) {
      report.peer = { name: repo.peer, online: false };
      return { ...report, problem: e instanceof AppError ? e.message : String(e) };
    }
  }
  const saved = readSavedConnection(d.paths.kopiaConfigFile);
  if (!saved) return { ...report, problem: "not connected: run `kopi-docka repo connect` (or `repo init`)" };
  if (!backend.matches(saved, repo)) {
    const differs = backend.differs?.(saved, repo);
    const other = differs
      ? `connected to ${report.location} with another ${differs} than the configured one`
      : `connected to another location (${marker?.location ?? "unknown"})`;
    return { ...report, problem: `${other}; the next backup reconnects` };
  }
  try {
    const status = await d.kopia.status();
    report.connected = true;
    if (status?.contentFormat)
      report.format = {
        hash: status.contentFormat.hash,
        encryption: status.contentFormat.encryption,
        splitter: status.objectFormat?.splitter,
      };
    const snapshots = await d.kopia.snapshotList();
    report.snapshots = snapshots.length;
    report.units = new Set(snapshots.map((s) => s.tags?.["tag:unit"]).filter(Boolean)).size;
    // A server offers a client neither maintenance nor blob stats: both are the server's own.
    if (repo.backend === "server") report.maintenanceByServer = true;
    else {
      const info = await d.kopia.run(["maintenance", "info", "--json"], { timeoutMs: 120_000 });
      const m = parseKopiaJson(MaintenanceInfo, info.stdout, "maintenance info");
      report.maintenanceOwner = m.owner;
      report.lastMaintenance = lastRun(m.schedule?.runs ?? {});
      // `blob stats` has no JSON; with --raw its "Total:" line is the bytes stored.
      const stats = await d.kopia.run(["blob", "stats", "--raw"], { timeoutMs: 600_000, check: false });
      const total = /^Total: (\d+)$/m.exec(stats.stdout)?.[1];
      if (stats.exitCode === 0 && total) report.sizeBytes = Number(total);
    }
  } catch (e) {
    // Told as a backup and doctor tell it: a changed host key, refused credentials, a hung server.
    report.problem = errorMessage(classifyStorageError(e, repo, report.location));
  }
  return report;
}

function lastRun(runs: Record<string, z.infer<typeof Run>[]>): RepositoryStatusReport["lastMaintenance"] {
  let best: RepositoryStatusReport["lastMaintenance"];
  for (const [kind, list] of Object.entries(runs))
    for (const r of list)
      if (r.end && (!best || r.end > best.end)) best = { kind, end: r.end, success: r.success !== false };
  return best;
}

import { formatBytes } from "../core/format.ts";
import type { VerifyResult } from "../core/repository/maintenance.ts";
import type { SelftestResult } from "../core/repository/selftest.ts";
import type { RepositoryStatusReport } from "../core/repository/status.ts";

const speed = (n: number) => (n ? `${formatBytes(n)}/s` : "unlimited");

/** `repo status` for people: one `key: value` line each. */
export function renderRepositoryStatus(r: RepositoryStatusReport): string {
  const lines: [string, string | undefined][] = [
    ["backend", r.backend],
    ["location", r.location],
    [
      "tailnet peer",
      r.peer &&
        `${r.peer.name}${r.peer.address ? ` (${r.peer.address})` : ""} ${r.peer.online ? "online" : "offline"}` +
          (r.peer.latencyMs === undefined ? "" : `, ${r.peer.latencyMs} ms via ${r.peer.via}`),
    ],
    ["connected", r.connected ? "yes" : `no${r.problem ? ` (${r.problem})` : ""}`],
    ["snapshots", r.snapshots?.toString()],
    ["units", r.units?.toString()],
    ["size", r.sizeBytes === undefined ? undefined : formatBytes(r.sizeBytes)],
    [
      "format",
      r.format && [r.format.hash, r.format.encryption, r.format.splitter].filter(Boolean).join(", "),
    ],
    ["maintenance owner", r.maintenanceByServer ? "done by the server" : r.maintenanceOwner],
    [
      "last maintenance",
      r.lastMaintenance
        ? `${r.lastMaintenance.kind} ${r.lastMaintenance.end}${r.lastMaintenance.success ? "" : " (failed)"}`
        : r.connected && !r.maintenanceByServer
          ? "never"
          : undefined,
    ],
    ["max upload speed", speed(r.maxUploadSpeed)],
    ["max download speed", speed(r.maxDownloadSpeed)],
  ];
  if (r.connected && r.problem) lines.push(["problem", r.problem]);
  return lines
    .filter((l): l is [string, string] => l[1] !== undefined)
    .map(([k, v]) => `${`${k}:`.padEnd(20)}${v}`)
    .join("\n");
}

export function renderVerify(r: VerifyResult): string {
  return `verified ${r.objects} objects; read back ${r.filesRead} files (${formatBytes(r.bytesRead)}, ${r.percent} %): no damage`;
}

export function renderSelftest(r: SelftestResult): string {
  return `selftest passed: ${r.files} files (${formatBytes(r.bytes)}) saved, restored and compared in ${r.durationMs} ms`;
}

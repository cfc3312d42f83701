import type { DaemonConfigView } from "../core/daemon-config/show.ts";
import { formatBytes } from "../core/format.ts";

/** `docker-config show`: the files, daemon.json, and the manual steps (never run by kopi-docka). */
export function renderDaemonConfig(v: DaemonConfigView): string[] {
  const out = [
    `Docker daemon config from run ${v.runId} (${v.timestamp}, host ${v.host}, snapshot ${v.snapshotId})`,
    "",
    "Files:",
    ...(v.files.length ? v.files.map((f) => `  ${f.path}  (${formatBytes(f.sizeBytes)})`) : ["  (none)"]),
    "",
  ];
  if (v.daemonJson === null) out.push("daemon.json: not in this backup", "");
  else {
    out.push(
      v.daemonJsonValid
        ? "daemon.json (secret values shown redacted):"
        : "daemon.json (NOT VALID JSON: dockerd would refuse to start with it):",
      ...v.daemonJson
        .trimEnd()
        .split("\n")
        .map((l) => `  ${l}`),
      "",
    );
  }
  if (v.files.length === 0)
    out.push("The host had no docker daemon config (no daemon.json, no docker.service.d): nothing to apply.");
  else
    out.push(
      "To apply it by hand (kopi-docka applies nothing):",
      ...v.steps.map((s, i) => `  ${i + 1}. ${s}`),
    );
  return out;
}

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { AppError } from "../errors.ts";
import { ownedTempDir } from "../process/temp-dirs.ts";
import { type PointsAdminContext, readManagedPoints } from "../restore-points/act.ts";
import type { ManagedPoint, ManagedSnapshot } from "../restore-points/groups.ts";
import { redactDeep, redactText } from "../snapshot/redact.ts";

/** Where the daemon config is read from and written to on a host (what a `full` backup copied). */
export const DAEMON_JSON = "/etc/docker/daemon.json";
export const DROP_IN_DIR = "/etc/systemd/system/docker.service.d";

/** What `docker-config show` found in a `full` backup's docker_config snapshot. */
export interface DaemonConfigView {
  runId: string;
  unit: string;
  host: string;
  timestamp: string;
  snapshotId: string;
  /** Every file in the snapshot, path relative to its root. */
  files: { path: string; sizeBytes: number }[];
  /** daemon.json as stored, secret values redacted; null when the backup had none. */
  daemonJson: string | null;
  /** Whether it parses as JSON (a broken file would stop dockerd from starting). */
  daemonJsonValid: boolean | null;
  /** What a person runs to apply it; kopi-docka never applies any of it. */
  steps: string[];
}

export interface DaemonConfigContext extends PointsAdminContext {
  lifecycle: PointsAdminContext["lifecycle"] & {
    register(name: string, priority: number, fn: () => void): { run(): Promise<void> | void };
  };
}

/** The newest point of this host (or of `run`) that holds a docker_config snapshot. */
export function pickDaemonConfig(
  points: readonly ManagedPoint[],
  o: { host: string; run?: string },
): { point: ManagedPoint; snapshot: ManagedSnapshot } {
  const candidates = points.filter(
    (p) =>
      (o.run ? [p.runId, p.backupId, p.key].includes(o.run) : p.host === o.host) &&
      p.snapshots.some((s) => s.type === "docker_config" && !s.incomplete),
  );
  const point = candidates[0];
  const snapshot = point?.snapshots.find((s) => s.type === "docker_config" && !s.incomplete);
  if (!point || !snapshot) {
    throw new AppError(
      "not_found",
      o.run
        ? `run ${o.run} has no docker daemon config snapshot`
        : `no backup of ${o.host} has a docker daemon config snapshot`,
      {
        hint: "only `backup --scope full` saves it (and only when /etc/docker/daemon.json or docker.service.d exists)",
      },
    );
  }
  return { point, snapshot };
}

/**
 * Restores the docker_config snapshot into a fresh private temp dir (mkdtemp: 0700), reads what it
 * holds, and removes the dir again, also on a signal (a Lifecycle compensation). Applies nothing.
 */
export async function showDaemonConfig(
  ctx: DaemonConfigContext,
  o: { run?: string },
): Promise<DaemonConfigView> {
  const { point, snapshot } = pickDaemonConfig(await readManagedPoints(ctx), {
    host: ctx.hostname,
    run: o.run,
  });
  if (!/^[0-9a-f]+$/.test(snapshot.id))
    throw new AppError("check_failed", `unexpected snapshot id ${JSON.stringify(snapshot.id)}`);
  const { dir, remove } = ownedTempDir(ctx.lifecycle, "daemon-config");
  try {
    const root = join(dir, "config");
    await ctx.kopia.snapshotRestore(snapshot.id, root, { signal: ctx.lifecycle.signal });
    const files = listFiles(root);
    const raw = files.some((f) => f.path === "daemon.json")
      ? readFileSync(join(root, "daemon.json"), "utf8")
      : null;
    let parsed: unknown;
    let valid: boolean | null = null;
    if (raw !== null) {
      try {
        parsed = JSON.parse(raw);
        valid = true;
      } catch {
        valid = false;
      }
    }
    return {
      runId: point.runId,
      unit: point.unit,
      host: point.host,
      timestamp: point.timestamp,
      snapshotId: snapshot.id,
      files,
      daemonJson:
        raw === null ? null : valid ? `${JSON.stringify(redactDeep(parsed), null, 2)}\n` : redactText(raw),
      daemonJsonValid: valid,
      steps: manualSteps(snapshot.id, point.runId, files),
    };
  } finally {
    await remove();
  }
}

function listFiles(root: string): { path: string; sizeBytes: number }[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const full = join(e.parentPath, e.name);
      return { path: relative(root, full), sizeBytes: statSync(full).size };
    })
    .sort((a, b) => a.path.localeCompare(b.path));
}

/** The exact commands to put the saved config in place by hand, each step's effect said. */
export function manualSteps(snapshotId: string, runId: string, files: readonly { path: string }[]): string[] {
  if (files.length === 0) return []; // the host had none: nothing to apply
  const target = `/root/kopi-docka-docker-config-${runId}`;
  const steps = [
    `kopi-docka kopia -- snapshot restore ${snapshotId} ${target}   # the saved files, unredacted`,
  ];
  if (files.some((f) => f.path === "daemon.json")) {
    steps.push(
      `diff ${DAEMON_JSON} ${target}/daemon.json   # what would change`,
      `cp ${target}/daemon.json ${DAEMON_JSON}`,
    );
  }
  if (files.some((f) => f.path.startsWith("docker.service.d/"))) {
    steps.push(
      `mkdir -p ${DROP_IN_DIR} && cp ${target}/docker.service.d/* ${DROP_IN_DIR}/`,
      "systemctl daemon-reload",
    );
  }
  steps.push(
    "systemctl restart docker   # stops every container not under live-restore; do it in a quiet moment",
    `rm -r ${target}`,
  );
  return steps;
}

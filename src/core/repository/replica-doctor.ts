import type { Config } from "../../config/schema.ts";
import type { RunRecord } from "../backup/result.ts";
import { scanRunRecords } from "../backup/run-records.ts";
import { allEnded, errorMessage } from "../caught.ts";
import type { Check } from "../doctor.ts";
import { AppError } from "../errors.ts";
import { formatDuration } from "../format.ts";
import type { Kopia } from "../kopia/kopia.ts";
import type { Runner } from "../process/runner.ts";
import type { Lifecycle } from "../safe-exit.ts";
import { backendOf } from "./backends/index.ts";
import { probeConnection } from "./connection-probe.ts";
import { ANSWER_LIMIT_MS, SLOW_ANSWER_MS } from "./doctor-check.ts";
import { classifyStorageError, foreignData } from "./problems.ts";
import { checkReachable } from "./reach.ts";
import { requireTools } from "./reconnect.ts";
import { copyGone, hasSynced, refusedBefore, syncedAt } from "./replica-guard.ts";
import { misplacedReplica, noReplicaDir, replicaRepository } from "./replicas.ts";
import { resolveSecrets } from "./secrets.ts";

export interface ReplicaCheckOptions {
  /** The synced markers (`<state_dir>/replicas/<name>/`). */
  stateDir: string;
  /** The run records, which say when a backup last copied to each replica. */
  runsDir: string;
  runner: Runner;
  /** Removes the probe's temp dir however doctor ends. */
  lifecycle: Pick<Lifecycle, "register">;
  progress?: (line: string) => void;
  slowMs?: number;
  now?: Date;
}

/**
 * doctor's `replica` lines, one per `[[replicas]]` entry, read-only: nothing is synced, no marker
 * written, nothing created. A replica once synced is opened as the primary is on a fresh host
 * (`probeConnection`: a read-only connect into a throwaway kopia config), so a server that is down,
 * refused credentials or a copy that is gone fails now, in the words the next sync would use, less
 * its "nothing was copied". One never synced holds no repository to open: its server is reached and
 * its location looked at, and it warns until a sync made the copy. The replicas are looked at side
 * by side.
 */
export async function replicaChecks(
  kopia: Kopia,
  config: Pick<Config, "repository" | "replicas">,
  o: ReplicaCheckOptions,
): Promise<Check[]> {
  if (config.replicas.length === 0) return [];
  const { records } = scanRunRecords(o.runsDir);
  // Side by side, each within its own limit: hung servers cost one limit, not one each. The lines
  // keep the config's order.
  return allEnded(config.replicas.map(({ name }) => replicaCheck(kopia, config, name, records, o)));
}

async function replicaCheck(
  kopia: Kopia,
  config: Pick<Config, "repository" | "replicas">,
  name: string,
  records: readonly RunRecord[],
  o: ReplicaCheckOptions,
): Promise<Check> {
  const repo = replicaRepository(config, name);
  const backend = backendOf(repo);
  const where = backend.describe(repo);
  const misplaced = misplacedReplica(config, name);
  if (misplaced) return { id: "replica", status: "fail", detail: misplaced };
  const slow = setTimeout(
    () => o.progress?.(`waiting for replica ${name} at ${where} to answer…`),
    o.slowMs ?? SLOW_ANSWER_MS,
  );
  try {
    if (hasSynced(o.stateDir, name, where)) {
      await probeConnection({
        kopia,
        runner: o.runner,
        repo,
        lifecycle: o.lifecycle,
        timeoutMs: ANSWER_LIMIT_MS,
        missing: (r, at) => copyGone(o.stateDir, name, r, at, "doctor"),
      });
      const last = lastSynced(o.stateDir, name, where, records);
      const ago = last
        ? `last copy on record ${formatDuration(Math.max(0, (o.now ?? new Date()).getTime() - last))} ago`
        : "synced before";
      return {
        id: "replica",
        status: "ok",
        detail: `${name} at ${where} opens with the configured credentials and password; ${ago}`,
      };
    }
    const refused = refusedBefore(o.stateDir, name, where);
    if (refused) throw refused;
    await lookBeforeFirstSync(repo, backend, where, name, o.runner);
    return {
      id: "replica",
      status: "warn",
      detail: `${name} at ${where} has never been synced: it holds no copy yet, and kopia opens it only at the first sync`,
      hint: `kopi-docka repo sync --replica ${name} makes the first copy (a backup does too)`,
    };
  } catch (e) {
    const told = classifyStorageError(e, repo, where);
    const said = errorMessage(told);
    return {
      id: "replica",
      status: "fail",
      // The sync's own errors name the replica already; kopia's storage errors name only the location.
      detail:
        said.startsWith(`replica ${name} `) || said.startsWith(`replica ${name}:`)
          ? said
          : `${name}: ${said}`,
      // Named: the hints of all lines come after the table, each under its check's id only.
      ...(told instanceof AppError && told.hint ? { hint: `${name}: ${told.hint}` } : {}),
    };
  } finally {
    clearTimeout(slow);
  }
}

/**
 * What the first sync needs before kopia runs: the server answering, the secrets and tools, and a
 * location that exists and holds nothing foreign. kopia's own look would write its format blob there.
 */
async function lookBeforeFirstSync(
  repo: ReturnType<typeof replicaRepository>,
  backend: ReturnType<typeof backendOf>,
  where: string,
  name: string,
  runner: Runner,
): Promise<void> {
  const resolved = (await backend.resolve?.(repo, { runner, env: {} })) ?? repo;
  await checkReachable(resolved, backend.endpoint?.(resolved, process.env), where);
  const secrets = resolveSecrets(resolved, backend);
  requireTools(resolved, backend);
  const seen =
    backend.probe?.(resolved) ?? (await backend.probeRemote?.(resolved, { runner, env: secrets.env }));
  if (seen === "foreign") throw foreignData(where);
  if (seen === "missing" && resolved.backend === "filesystem")
    throw noReplicaDir(resolved.path, name, "doctor");
}

/** The newest copy to this location on record: a backup's run record, else the marker's first sync. */
function lastSynced(
  stateDir: string,
  name: string,
  where: string,
  records: readonly RunRecord[],
): number | undefined {
  const times = [
    syncedAt(stateDir, name, where),
    ...records.flatMap((r) =>
      (r.replicas ?? []).some((x) => x.name === name && x.location === where && x.status === "ok")
        ? [r.finishedAt]
        : [],
    ),
  ]
    .map((t) => Date.parse(t ?? ""))
    .filter((t) => !Number.isNaN(t));
  return times.length ? Math.max(...times) : undefined;
}

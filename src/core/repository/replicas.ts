import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Config, ReplicaConfig, RepositoryConfig } from "../../config/schema.ts";
import { AppError } from "../errors.ts";
import type { Kopia } from "../kopia/kopia.ts";
import type { Logger } from "../log.ts";
import type { Runner } from "../process/runner.ts";
import { backendOf } from "./backends/index.ts";
import { classifyStorageError, foreignData } from "./problems.ts";
import { checkReachable } from "./reach.ts";
import {
  COPY_GONE,
  checkFirstSync,
  checkPrimaryIntact,
  copyGone,
  hasSynced,
  kopiaStderr,
  markSynced,
  type ToldBy,
} from "./replica-guard.ts";
import { replicaLocationProblem } from "./replica-location.ts";
import { resolveSecrets } from "./secrets.ts";

export interface ReplicaResult {
  name: string;
  location: string;
  status: "ok" | "failed";
  durationMs: number;
  error?: string;
}

/**
 * A replica as a repository config: its own backend keys over the primary's common ones (the copy is
 * the same repository, so the same password file, host name and cache settings apply).
 */
export function replicaRepository(
  config: Pick<Config, "repository" | "replicas">,
  name: string,
): RepositoryConfig {
  const replica = config.replicas.find((r) => r.name === name);
  if (!replica)
    throw new AppError("usage", `there is no replica named ${name}`, {
      hint: config.replicas.length
        ? `configured: ${config.replicas.map((r) => r.name).join(", ")}`
        : "add one as [[replicas]] in the config",
    });
  const { name: _, ...keys } = replica as ReplicaConfig & Record<string, unknown>;
  const p = config.repository;
  return {
    password_file: p.password_file,
    hostname: p.hostname,
    compression: p.compression,
    cache_size_mb: p.cache_size_mb,
    ...keys,
  } as RepositoryConfig;
}

export interface SyncDeps {
  kopia: Kopia;
  runner: Runner;
  log: Logger;
  config: Pick<Config, "repository" | "replicas">;
  paths: { stateDir: string };
  signal?: AbortSignal;
  /** The snapshots missing since the last check were deleted on purpose (`repo sync --accept-deleted`). */
  acceptDeleted?: boolean;
}

/** Why replica `name` may not be where it is (the primary's location or another replica's), if so. */
export function misplacedReplica(
  config: Pick<Config, "repository" | "replicas">,
  name: string,
): string | undefined {
  const others = [
    { name: "the primary repository", repo: config.repository },
    ...config.replicas
      .filter((r) => r.name !== name)
      .map((r) => ({ name: `replica ${r.name}`, repo: replicaRepository(config, r.name) })),
  ];
  return replicaLocationProblem(name, replicaRepository(config, name), others);
}

/**
 * `kopia repository sync-to` from the connected repository to one replica. A location holding
 * something else than this repository is refused (kopia's own check, and ours for foreign files).
 * Once a copy was made there (the marker), kopia must find it (`--must-exist`): a vanished copy fails
 * the sync instead of being made anew where the disk or bucket should be.
 */
async function syncOne(d: SyncDeps, name: string): Promise<void> {
  const repo = replicaRepository(d.config, name);
  const misplaced = misplacedReplica(d.config, name);
  if (misplaced) throw new AppError("config", `${misplaced}; nothing was copied`);
  const backend = backendOf(repo);
  const where = backend.describe(repo);
  const secrets = resolveSecrets(repo, backend);
  const synced = hasSynced(d.paths.stateDir, name, where);
  await checkReachable(repo, backend.endpoint?.(repo, process.env), where);
  const probe =
    backend.probe?.(repo) ?? (await backend.probeRemote?.(repo, { runner: d.runner, env: secrets.env }));
  if (probe === "foreign") throw foreignData(where);
  const argv = backend.storageArgs(repo);
  try {
    if (!synced) {
      if (repo.backend === "filesystem") makeReplicaDir(repo.path, name);
      if (probe === "empty" || probe === "missing")
        await backend.prepareCreate?.(repo, { runner: d.runner, env: secrets.env });
      await checkFirstSync({
        kopia: d.kopia,
        name,
        where,
        storage: argv,
        env: secrets.env,
        stateDir: d.paths.stateDir,
        signal: d.signal,
      });
    }
    const flags = ["--parallel", "4", "--delete", "--no-progress", ...(synced ? ["--must-exist"] : [])];
    await d.kopia.run(["repository", "sync-to", ...argv, ...flags], {
      env: secrets.env,
      signal: d.signal,
      timeoutMs: 24 * 3_600_000,
    });
  } catch (e) {
    const stderr = kopiaStderr(e);
    if (/destination repository contains incompatible data/.test(stderr))
      throw new AppError(
        "repository",
        `replica ${name} at ${where} holds another repository; nothing was copied`,
        {
          hint: "point the replica at an empty location, or at a copy of this repository",
        },
      );
    if (synced && COPY_GONE.test(stderr)) throw copyGone(d.paths.stateDir, name, repo, where, "sync", e);
    throw classifyStorageError(e, repo, where);
  }
  if (!synced) markSynced(d.paths.stateDir, name, where);
}

/**
 * Syncs the named replicas (default: all), once the primary is found intact (`checkPrimaryIntact`).
 * A failed one is reported, never thrown: the next still runs.
 */
export async function syncReplicas(d: SyncDeps, names?: string[]): Promise<ReplicaResult[]> {
  const results: ReplicaResult[] = [];
  const wanted = names ?? d.config.replicas.map((r) => r.name);
  const intact = wanted.length
    ? checkPrimaryIntact(d.kopia, d.paths.stateDir, { acceptDeleted: d.acceptDeleted, signal: d.signal })
    : Promise.resolve();
  intact.catch(() => {});
  for (const name of wanted) {
    const repo = replicaRepository(d.config, name);
    const location = backendOf(repo).describe(repo);
    const started = performance.now();
    d.log.info(`replica ${name}: copying the repository to ${location}`);
    try {
      await intact;
      await syncOne(d, name);
      results.push({ name, location, status: "ok", durationMs: Math.round(performance.now() - started) });
    } catch (e) {
      const error = e instanceof Error ? e.message.split("\n")[0] : String(e);
      d.log.warn(`replica ${name} failed: ${error}`);
      results.push({
        name,
        location,
        status: "failed",
        durationMs: Math.round(performance.now() - started),
        error,
      });
    }
  }
  return results;
}

/**
 * The same context, reading from replica NAME instead of the primary (`--repository replica:NAME`):
 * its own kopia config, cache and state (the primary's connection stays as it is).
 */
export function onRepository<
  T extends {
    config: Config;
    kopia: Kopia;
    runner: Runner;
    paths: { stateDir: string; kopiaConfigFile: string };
  },
>(ctx: T, spec: string | undefined, create: (runner: Runner, o: Kopia["options"]) => Kopia): T {
  if (!spec || spec === "primary") return ctx;
  const name = /^replica:(.+)$/.exec(spec)?.[1];
  if (!name)
    throw new AppError("usage", `--repository ${spec}: expected primary or replica:NAME`, {
      hint: "name a [[replicas]] entry of the config: --repository replica:<name>",
    });
  const repository = replicaRepository(ctx.config, name);
  const o = ctx.kopia.options;
  const kopiaConfigFile = join(ctx.paths.stateDir, "kopia", `replica-${name}.config`);
  const kopia = create(ctx.runner, {
    ...o,
    configFile: kopiaConfigFile,
    cacheDir: `${o.cacheDir}-replica-${name}`,
  });
  return {
    ...ctx,
    config: { ...ctx.config, repository },
    kopia,
    paths: { ...ctx.paths, stateDir: join(ctx.paths.stateDir, "replicas", name), kopiaConfigFile },
  };
}

/**
 * A first copy goes only into a directory that exists: one kopi-docka made would be on the root
 * filesystem whenever the replica's disk is not mounted (its mountpoint is an empty directory then),
 * and every sync after the mount would fail. The person makes it once, on the mounted disk.
 */
function makeReplicaDir(path: string, name: string): void {
  if (existsSync(path)) return;
  throw noReplicaDir(path, name, "sync");
}

/** A filesystem replica's directory, which the person makes once, is not there. */
export function noReplicaDir(path: string, name: string, by: ToldBy): AppError {
  const mkdir = `with the replica's disk mounted: mkdir -m 0700 ${path}`;
  return new AppError(
    "repository",
    `replica ${name}: ${path} does not exist (is its disk mounted?)${by === "sync" ? "; nothing was copied" : ""}`,
    {
      hint:
        by === "sync"
          ? `${mkdir}, then sync again`
          : `${mkdir}; then kopi-docka repo sync --replica ${name} makes the first copy`,
    },
  );
}

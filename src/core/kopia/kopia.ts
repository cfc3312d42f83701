import { existsSync } from "node:fs";
import { z } from "zod";
import { AppError, type ProcessError } from "../errors.ts";
import type { Runner, RunResult } from "../process/runner.ts";
import { failure } from "../process/runner.ts";
import { classifyKopiaError } from "./errors.ts";
import { GATE_ENV, READ_ENV } from "./gate.ts";
import {
  type KopiaOptions,
  progressRun,
  type SnapshotCreateOptions,
  type SnapshotRestoreOptions,
} from "./kopia-options.ts";
import { objectMethods } from "./objects.ts";
import {
  checkSnapshotIds,
  parseKopiaJson,
  parseKopiaVersion,
  parseSnapshotLines,
  type RepositoryStatus,
  RepositoryStatusSchema,
  type SnapshotManifest,
  SnapshotManifestSchema,
} from "./parse.ts";
import {
  type KopiaPolicy,
  KopiaPolicySchema,
  type MaintenanceInfo,
  MaintenanceInfoSchema,
} from "./policy-schema.ts";
import { afterRestoreRedraw, parseRestoreProgress, parseSnapshotProgress } from "./progress.ts";

export type Kopia = ReturnType<typeof createKopia>;

/**
 * The content hash of a repository we create. kopia's default (BLAKE2B-256-128) takes about twice the
 * CPU per byte: with AES256-GCM, 724 MB/s against 1.4 GB/s here (`kopia benchmark crypto`). The
 * downtime bench showed no change of the cold window (reading, splitting and writing the packs weigh
 * more there); the CPU a large first backup spends is halved. Every kopia since 0.9 reads it; a
 * repository keeps the hash it was created with, so this changes none that exist.
 */
export const BLOCK_HASH = "BLAKE3-256-128";

/** Quick maintenance compacts indexes and the newest packs: minutes at most. */
const QUICK_MAINTENANCE_TIMEOUT_MS = 3_600_000;
/**
 * Full maintenance walks every snapshot, rewrites half-empty packs and deletes unused ones: hours on a
 * big remote repository. Bounded all the same, as the integrity checks before it are (6 h each).
 */
const FULL_MAINTENANCE_TIMEOUT_MS = 6 * 3_600_000;

/** The kopia CLI, driven through the runner. Secrets travel in env only; output is parsed from JSON. */
export function createKopia(runner: Runner, opts: KopiaOptions) {
  const env = (withPassword: boolean, inherited = false) => ({
    ...(inherited ? {} : NOT_INHERITED),
    KOPIA_CONFIG_PATH: opts.configFile,
    KOPIA_LOG_DIR: opts.logDir,
    KOPIA_CHECK_FOR_UPDATES: "false",
    KOPIA_PERSIST_CREDENTIALS_ON_CONNECT: "false",
    KOPIA_PASSWORD: withPassword ? opts.password() : undefined,
  });
  const base = async () => [opts.binary ? await opts.binary() : "kopia", "--config-file", opts.configFile];
  const run = async (args: string[], o: Parameters<Runner["run"]>[1] & { password?: boolean } = {}) => {
    const { password = true, ...rest } = o;
    try {
      return await runner.run([...(await base()), ...args], {
        ...rest,
        env: { ...env(password), ...rest.env },
      });
    } catch (e) {
      throw classifyKopiaError(e);
    }
  };
  const connectFlags = () => [
    "--override-hostname",
    opts.hostname,
    "--override-username",
    opts.username,
    "--cache-directory",
    opts.cacheDir,
    "--no-persist-credentials",
    "--no-check-for-updates",
    ...(opts.cacheSizeMb
      ? [
          "--content-cache-size-mb",
          String(opts.cacheSizeMb),
          "--metadata-cache-size-mb",
          String(opts.cacheSizeMb),
        ]
      : []),
  ];

  return {
    options: opts,

    ...objectMethods(run),

    /** "0.23.1", from `kopia --version`. */
    async version(): Promise<string | undefined> {
      const r = await run(["--version"], { password: false, timeoutMs: 10_000 });
      return parseKopiaVersion(r.stdout);
    },

    /** The connection status, or undefined when kopi-docka's kopia config is not connected. */
    async status(): Promise<RepositoryStatus | undefined> {
      // No config file: never connected. Asking kopia would first demand a password that may not exist yet.
      if (!existsSync(opts.configFile)) return undefined;
      const timeoutMs = 120_000;
      const r = await run(["repository", "status", "--json"], { check: false, timeoutMs });
      if (r.exitCode === 0) return parseKopiaJson(RepositoryStatusSchema, r.stdout, "repository status");
      // Storage that vanished also says "no such file": that must not read as "never connected".
      const classified = classifyKopiaError(failure(r, timeoutMs));
      if (classified instanceof AppError && classified.code === "repository" && /storage/.test(r.stderr))
        throw classified;
      if (!r.timedOut && /not connected|repository is not connected|no such file/i.test(r.stderr))
        return undefined;
      throw classified;
    },

    /** `storage` is `<provider> <flags>`; `env` carries the storage secrets (never argv). */
    async create(storage: string[], o: { env?: Record<string, string> } = {}): Promise<void> {
      const format = ["--block-hash", BLOCK_HASH];
      await run(
        ["repository", "create", ...storage, ...format, ...connectFlags(), "--description", "kopi-docka"],
        {
          timeoutMs: 300_000,
          env: o.env,
        },
      );
    },

    /** `timeoutMs`: a shorter limit than the 5 minutes a backup's connect may take (doctor's look). */
    async connect(
      storage: string[],
      o: { env?: Record<string, string>; timeoutMs?: number } = {},
    ): Promise<void> {
      await run(["repository", "connect", ...storage, ...connectFlags()], {
        timeoutMs: o.timeoutMs ?? 300_000,
        env: o.env,
      });
    },

    async disconnect(): Promise<void> {
      await run(["repository", "disconnect"], { password: false, check: false, timeoutMs: 60_000 });
    },

    /**
     * Snapshots one directory and returns the saved manifest. Any failed exit throws, even when kopia
     * printed a manifest: on a full disk that manifest was never saved, so it must not be trusted.
     * Callers that must tell partial results apart use `snapshotCreateResult`.
     */
    async snapshotCreate(path: string, o: SnapshotCreateOptions = {}): Promise<SnapshotManifest> {
      const r = await this.snapshotCreateResult(path, o);
      if (r.manifest && r.exitCode === 0) return r.manifest;
      throw classifyKopiaError(r.error);
    },

    /** Every snapshot manifest in the repository (all hosts and users; incomplete ones included). */
    async snapshotList(o: { signal?: AbortSignal } = {}): Promise<SnapshotManifest[]> {
      const r = await run(["snapshot", "list", "--json", "--all"], { signal: o.signal, timeoutMs: 600_000 });
      return parseKopiaJson(SnapshotManifestSchema.array(), r.stdout || "[]", "snapshot list");
    },

    /**
     * Restores a snapshot (manifest or object id) into `target`, keeping owners, modes and times.
     * Into existing data, files are written to a temp name and renamed (`--write-files-atomically`):
     * without it kopia opens an existing path and writes through a symlink planted there, onto
     * whatever it names. The temp name adds up to 10 digits, so a name over 245 bytes fails there
     * (`isNameTooLongForTemp`); `intoEmpty` has none of that.
     */
    async snapshotRestore(id: string, target: string, o: SnapshotRestoreOptions = {}): Promise<void> {
      checkSnapshotIds([id], `${target} was not written`);
      const progress = progressRun(parseRestoreProgress, o, afterRestoreRedraw);
      const args = ["snapshot", "restore", id, target, ...progress.flags, "--no-ignore-permission-errors"];
      args.push(o.intoEmpty ? "--write-sparse-files" : "--write-files-atomically");
      if (o.deleteExtra) args.push("--delete-extra");
      const r = await run(args, { signal: o.signal, check: false, ...progress.options });
      if (r.exitCode !== 0) throw classifyKopiaError(failure(progress.clean(r)));
    },

    /**
     * Deletes snapshot manifests, in the order given (`snapshot delete … --delete`; without
     * `--delete` kopia only says what it would do). Data goes at the next maintenance.
     */
    async snapshotDelete(ids: readonly string[], o: { signal?: AbortSignal } = {}): Promise<void> {
      if (ids.length === 0) return;
      checkSnapshotIds(ids);
      await run(["snapshot", "delete", ...ids, "--delete", "--no-auto-maintenance"], {
        signal: o.signal,
        timeoutMs: 600_000,
      });
    },

    /** Adds and removes pins (`snapshot pin`). kopia rewrites each manifest: its id changes. */
    async snapshotPin(
      ids: readonly string[],
      change: { add?: readonly string[]; remove?: readonly string[] },
    ): Promise<void> {
      if (ids.length === 0) return;
      const flags = [
        ...(change.add ?? []).flatMap((p) => ["--add", p]),
        ...(change.remove ?? []).flatMap((p) => ["--remove", p]),
      ];
      if (flags.length === 0) return;
      checkSnapshotIds(ids);
      await run(["snapshot", "pin", ...flags, ...ids, "--no-auto-maintenance"], { timeoutMs: 600_000 });
    },

    /**
     * A person's own kopia command on this host's connection (`kopi-docka kopia -- ARGS`): our config
     * file, log dir and the password in env, never in argv; the terminal is kopia's. Returns kopia's
     * exit code; nothing it prints passes through kopi-docka.
     */
    async passthrough(args: readonly string[], o: { signal?: AbortSignal } = {}): Promise<number> {
      const r = await runner.run([...(await base()), ...args], {
        env: env(true, true),
        stdio: "inherit",
        check: false,
        signal: o.signal,
      });
      return r.exitCode ?? 128;
    },

    /**
     * `kopia show <object>[/path]`: a stored file's bytes, handed over as a stream (a dump fed back
     * into its database). Never throws for kopia's exit; the caller reads it.
     */
    async showStream(
      object: string,
      o: { stdoutStream: (s: ReadableStream<Uint8Array>) => void; signal?: AbortSignal },
    ): Promise<RunResult> {
      return run(["show", object], { check: false, signal: o.signal, stdoutStream: o.stdoutStream });
    },

    /** Raw access for the rare command without a method; still env-injected and classified. */
    run,

    /** Effective policy of `--global` or a `user@host:/path` target (`policy show --json`). */
    async policyShow(target: string): Promise<KopiaPolicy> {
      const args = target === "global" ? ["--global"] : [target];
      const r = await run(["policy", "show", ...args, "--json"], { timeoutMs: 300_000 });
      return parseKopiaJson(KopiaPolicySchema, r.stdout.trim().split("\n")[0] ?? "{}", "policy show");
    },

    /**
     * Every policy defined in the repository, keyed by target (`(global)`, `user@host`,
     * `user@host:/path`), each as defined there without what it inherits: one `policy export`.
     */
    async policyDefinedAll(): Promise<Record<string, KopiaPolicy>> {
      const r = await run(["policy", "export"], { timeoutMs: 300_000 });
      return parseKopiaJson(z.record(z.string(), KopiaPolicySchema), r.stdout || "{}", "policy export");
    },

    /** `policy set` with the given flags; callers pass only values that differ (read-before-write). */
    async policySet(target: string, flags: string[]): Promise<void> {
      const args = target === "global" ? ["--global"] : [target];
      await run(["policy", "set", ...args, ...flags, "--no-auto-maintenance"], { timeoutMs: 300_000 });
    },

    /** `maintenance info --json`: who owns maintenance (`user@host`) and its schedule. */
    async maintenanceInfo(o: { timeoutMs?: number } = {}): Promise<MaintenanceInfo> {
      const r = await run(["maintenance", "info", "--json"], { timeoutMs: o.timeoutMs ?? 300_000 });
      return parseKopiaJson(MaintenanceInfoSchema, r.stdout, "maintenance info");
    },

    /** Who owns maintenance (`user@host`). */
    async maintenanceOwner(): Promise<string | undefined> {
      return (await this.maintenanceInfo()).owner;
    },

    /**
     * Like `snapshotCreate`, but never throws for a failed exit: returns the manifest (when kopia printed
     * one), the exit code and the stderr tail. kopia can print a manifest and still exit 1 when the final
     * flush fails (e.g. the repository disk is full); such a snapshot is not in the repository.
     */
    async snapshotCreateResult(
      path: string,
      o: SnapshotCreateOptions = {},
    ): Promise<{
      manifest?: SnapshotManifest;
      exitCode: number | null;
      stderrTail: string;
      error: ProcessError;
    }> {
      const progress = progressRun(parseSnapshotProgress, o);
      // With progress, kopia's default size estimate walks the whole source a second time, next to the
      // snapshot's own walk, inside the cold window (+25 % on an incremental snapshot of 150k small
      // files, bench/progress.ts). "rough" asks the filesystem instead (statfs, kopia ≥ 0.19): that is
      // the whole filesystem's usage, so its estimate and percentage are not shown.
      if (o.onProgress) progress.flags.push("--progress-estimation-type=rough");
      const args = ["snapshot", "create", path, "--json", ...progress.flags, "--no-auto-maintenance"];
      if (o.overrideSource) args.push("--override-source", o.overrideSource);
      if (o.description) args.push("--description", o.description);
      for (const [k, v] of Object.entries(o.tags ?? {})) args.push("--tags", `${k}:${v}`);
      // Every action kopia finds for the source runs, not only the gate: callers take a gate only
      // once the run's read of the policies shows none but ours (`actions.ts`).
      if (o.gate) args.push("--force-enable-actions");
      if (o.stdin) args.push("--stdin-file", o.stdin.file);
      const env = o.gate
        ? {
            [GATE_ENV]: o.gate,
            ...(o.readDone ? { [READ_ENV]: o.readDone } : {}),
          }
        : undefined;
      const r = await run(args, {
        check: false,
        signal: o.signal,
        env,
        ...progress.options,
        ...(o.stdin ? { stdin: o.stdin.stream } : {}),
        ...(o.killGraceMs !== undefined ? { killGraceMs: o.killGraceMs } : {}),
      });
      const [manifest] = parseSnapshotLines(r.stdout);
      const error = failure(progress.clean(r));
      return { ...(manifest ? { manifest } : {}), exitCode: r.exitCode, stderrTail: error.stderrTail, error };
    },

    /**
     * `snapshot verify` of the given snapshots, reading `percent` % of their files back. Never throws
     * on damage: the caller reports it (`dr drill` names what failed).
     */
    async snapshotVerify(
      ids: readonly string[],
      percent: number,
      o: { signal?: AbortSignal } = {},
    ): Promise<{ ok: boolean; errors: string[] }> {
      checkSnapshotIds(ids, "nothing was verified");
      const args = ["snapshot", "verify", "--no-progress", "--verify-files-percent", String(percent), ...ids];
      const r = await run(args, { check: false, signal: o.signal, timeoutMs: 3_600_000 });
      const errors = [...new Set(r.stderr.split("\n").filter((l) => /error|fail|missing/i.test(l)))];
      return { ok: r.exitCode === 0 && errors.length === 0, errors: errors.slice(0, 5) };
    },

    /** Quick maintenance (full with `full`); only the owner may run it. */
    async maintenanceRun(o: { full?: boolean; signal?: AbortSignal } = {}): Promise<void> {
      const args = ["maintenance", "run", ...(o.full ? ["--full"] : []), "--no-auto-maintenance"];
      const timeoutMs = o.full ? FULL_MAINTENANCE_TIMEOUT_MS : QUICK_MAINTENANCE_TIMEOUT_MS;
      await run(args, { signal: o.signal, timeoutMs });
    },
  };
}

/**
 * Variables kopia reads for a storage flag that is not given (cli/storage_*.go, v0.23.1). kopi-docka
 * sets a backend's own per call; one inherited from an admin's shell (`AZURE_STORAGE_DOMAIN`,
 * `AWS_SESSION_TOKEN`) would send kopia elsewhere, or sign in otherwise, than `repo status` says.
 * A person's own kopia command (`passthrough`) keeps them. Storage credentials among them: docker
 * never gets any (`core/secret-env.ts`).
 */
export const KOPIA_STORAGE_ENV: readonly string[] = [
  ..."STORAGE_ACCOUNT STORAGE_KEY STORAGE_DOMAIN STORAGE_SAS_TOKEN TENANT_ID CLIENT_ID CLIENT_SECRET".split(
    " ",
  ),
  ..."CLIENT_CERTIFICATE FEDERATED_TOKEN_FILE".split(" "),
]
  .map((k) => `AZURE_${k}`)
  .concat(["B2_KEY_ID", "B2_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"])
  .concat(["ROOT_CA_PEM_BASE64", "KOPIA_WEBDAV_USERNAME", "KOPIA_WEBDAV_PASSWORD"]);

/**
 * Variables that hold secrets whatever the config says: the repository password kopia reads
 * (`KOPIA_PASSWORD`, and the new one while it changes) and every credential kopia reads for a storage
 * flag. An admin's shell or recover.sh may have exported any of them; no docker process gets one.
 */
export const KOPIA_SECRET_ENV: readonly string[] = [
  "KOPIA_PASSWORD",
  "KOPIA_NEW_PASSWORD",
  ...KOPIA_STORAGE_ENV,
];

const NOT_INHERITED: Record<string, undefined> = Object.fromEntries(
  KOPIA_STORAGE_ENV.map((k) => [k, undefined]),
);

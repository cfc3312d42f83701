import { z } from "zod";
import { argvProblem, DUMP_PRESETS } from "../core/dump/presets.ts";
import { absolutePath, keep, seconds } from "./schema-fields.ts";
import { ReplicasSchema, RepositorySchema } from "./schema-repository.ts";

/**
 * The configuration schema. Every key has a default, so an empty file (or no file) is a valid config.
 * Objects are strict: an unknown key is an error, not silently ignored (a typo must never turn off a
 * safety feature). Defaults follow the Python Kopi-Docka 7.9 where it had one.
 */

export const SCOPES = ["minimal", "standard", "full"] as const;
export type Scope = (typeof SCOPES)[number];

export const RetentionSchema = z
  .strictObject({
    latest: keep(10, 1000),
    hourly: keep(0, 1000),
    daily: keep(7, 1000),
    weekly: keep(4, 1000),
    monthly: keep(12, 1000),
    annual: keep(3, 1000),
  })
  .prefault({});

/** An executable's absolute path, or "" for none. */
const hookPathOrNone = z.union([z.literal(""), absolutePath]);
const hookPath = hookPathOrNone.default("");

export const HooksSchema = z
  .strictObject({
    pre_backup: hookPath,
    post_backup: hookPath,
    pre_restore: hookPath,
    post_restore: hookPath,
    /** Seconds a hook may run before it is killed and counted as failed. */
    timeout: seconds(300, 86_400),
  })
  .prefault({});

/**
 * Host paths that are never backed up as bind mounts (a bind at or under one is skipped).
 * The host root `/` itself is always skipped and cannot be configured back in.
 */
export const DEFAULT_HOST_INTERNAL_PATHS = [
  "/proc",
  "/sys",
  "/dev",
  "/run",
  "/var/run",
  "/boot",
  "/lib",
  "/lib64",
  "/usr",
  "/bin",
  "/sbin",
  "/etc",
  "/var/lib/docker",
  "/var/log",
];

/**
 * Longest `docker stop` timeout, seconds, wherever it comes from (config, label, the container's own):
 * a stop is part of the cold window, and an hour is already far past any graceful shutdown.
 */
export const MAX_STOP_TIMEOUT_S = 3600;

export const BackupSchema = z
  .strictObject({
    scope: z.enum(SCOPES).default("standard"),
    /** Seconds `docker stop` waits before it kills a container. */
    stop_timeout: seconds(30, MAX_STOP_TIMEOUT_S),
    /** Seconds to wait for a restarted container to be running (and healthy, if it has a check). */
    start_timeout: seconds(60, 3600),
    /**
     * Longest a unit may stay stopped (first stop → snapshots done): past it the snapshot is cancelled,
     * the containers start, the unit fails and the run goes on. Unset: no bound.
     */
    max_cold_seconds: z.number().int().min(1).max(604_800).optional(),
    /** Kopia ignore patterns (gitignore syntax) for volume and bind-mount snapshots. */
    exclude_patterns: z.array(z.string().min(1)).default([]),
    /** Bind-mount sources at or under these paths are never backed up. */
    host_internal_paths: z.array(absolutePath).default(DEFAULT_HOST_INTERNAL_PATHS),
    /**
     * Images (repository without tag, e.g. "ghcr.io/acme/app") whose `kopi-docka.*` labels are obeyed
     * like the host's own. Other images' labels may not leave data out until the config confirms it.
     */
    trust_image_labels: z.array(z.string().min(1)).default([]),
    /** Socket files (by base name) never backed up as bind mounts. */
    host_internal_basenames: z.array(z.string().min(1)).default(["docker.sock"]),
    /**
     * Full kopia maintenance (garbage collection: the space of expired points) after a backup, when
     * this host owns maintenance and kopia's schedule says it is due; false: only `repo maintenance --full`.
     */
    full_maintenance: z.boolean().default(true),
    hooks: HooksSchema,
  })
  .prefault({});

/** An argv run inside a container: never a shell string. */
const commandArgv = z.array(z.string()).superRefine((a, ctx) => {
  const p = argvProblem(a);
  if (p) ctx.addIssue({ code: "custom", message: `the command ${p}` });
});

export const UnitOverrideSchema = z.strictObject({
  /** Skip this unit entirely. */
  exclude: z.boolean().default(false),
  /** Volume names of this unit not to back up. */
  exclude_volumes: z.array(z.string().min(1)).default([]),
  /** false: back up without stopping (only for data that is safe to read live). Same as mode = "live". */
  stop: z.boolean().default(true),
  /**
   * How the unit is read: "cold" (stopped), "warm-then-cold" (a warm pass first), "live" (never
   * stopped), "dump" (never stopped: a database dump streamed from inside the container),
   * "fs-snapshot" (stopped only while a btrfs snapshot is taken; README "Backup modes").
   */
  mode: z.enum(["cold", "warm-then-cold", "live", "dump", "fs-snapshot"]).optional(),
  /** mode "dump": a preset's dump and restore commands. */
  dump: z.enum(DUMP_PRESETS).optional(),
  /** mode "dump": a dump command of one's own (argv, run in the container); needs restore_command. */
  dump_command: commandArgv.optional(),
  /** mode "dump": what reads the dump back on stdin (argv, run in the container). */
  restore_command: commandArgv.optional(),
  /** mode "dump": the container (name or compose service) dumped; default: the one labelled or the only one. */
  dump_container: z.string().min(1).optional(),
  /** The database file, inside the container, of the sqlite preset. */
  dump_path: z.string().min(1).optional(),
  /** Overrides the `kopi-docka.stop-timeout` label, the container's own and backup.stop_timeout. */
  stop_timeout: z.number().int().min(1).max(MAX_STOP_TIMEOUT_S).optional(),
  /** Overrides backup.max_cold_seconds for this unit. */
  max_cold_seconds: z.number().int().min(1).max(604_800).optional(),
  /** Override the global hook for this unit; "" disables it here. Unset: the global hook. */
  pre_backup: hookPathOrNone.optional(),
  post_backup: hookPathOrNone.optional(),
  /** Overrides alerts.max_age_hours for this unit; 0: never report it as missed. */
  max_age_hours: z.number().min(0).max(87_600).optional(),
});

export const PathsSchema = z
  .strictObject({
    /** Run records, the restart journal, kopia's own config. */
    state_dir: absolutePath.default("/var/lib/kopi-docka"),
    /** Kopia cache and the staging area for recipes. */
    cache_dir: absolutePath.default("/var/cache/kopi-docka"),
    /** The host-wide lock that keeps two backups apart. */
    lock_file: absolutePath.default("/run/kopi-docka/kopi-docka.lock"),
    /** Where `restore` writes compose files and project files by default (`<dir>/<unit>`). */
    restore_dir: absolutePath.default("/opt/stacks"),
  })
  .prefault({});

export const COMPOSE_CHOICES = ["auto", "v2", "v1"] as const;
export type ComposeChoice = (typeof COMPOSE_CHOICES)[number];

export const DockerSchema = z
  .strictObject({
    /** auto: the v2 plugin (`docker compose`) when it answers, else v1 (`docker-compose`). */
    compose: z.enum(COMPOSE_CHOICES).default("auto"),
  })
  .prefault({});

/**
 * When the systemd timer fires. Both keys are optional on purpose: unset, `systemd install` keeps the
 * installed timer's value (else its built-in default), so only a value written here overrides it.
 */
export const ScheduleSchema = z
  .strictObject({
    /** systemd OnCalendar expression; checked with `systemd-analyze calendar` at install time. */
    on_calendar: z
      .string()
      .trim()
      .min(1)
      .refine((v) => !/[\n\r]/.test(v), "must be one line")
      .optional(),
    /** Seconds systemd may delay each start at random (spreads many hosts over a window). */
    randomized_delay_sec: z.number().int().min(0).max(604_800).optional(),
  })
  .prefault({});

// --- alerts and metrics (issue 12) ---

export const NOTIFY_LEVELS = ["failure", "warning", "always"] as const;
export type NotifyLevel = (typeof NOTIFY_LEVELS)[number];

/** One notification target: its URL inline (`${VAR}` expanded) or read from a 0600 file. */
export const NotifyTargetSchema = z
  .strictObject({
    url: z.string().trim().min(1).optional(),
    url_file: absolutePath.optional(),
    /** failure: failed runs, urgent and missed-backup alerts; warning: + warnings; always: every run. */
    level: z.enum(NOTIFY_LEVELS).default("failure"),
  })
  .refine((t) => (t.url === undefined) !== (t.url_file === undefined), "set exactly one of url, url_file");

export const PING_STYLES = ["healthchecks", "fail", "uptime-kuma"] as const;

export const AlertsSchema = z
  .strictObject({
    notify: z.array(NotifyTargetSchema).default([]),
    /** Heartbeat URL (Healthchecks.io, Uptime Kuma push); "" for none. */
    ping_url: z.string().trim().default(""),
    /** healthchecks: /start, base, /<exit code>; fail: /start, base, /fail; uptime-kuma: ?status=up|down. */
    ping_style: z.enum(PING_STYLES).default("healthchecks"),
    /** A unit whose last good backup is older than this is reported missed (per-unit override). */
    max_age_hours: z.number().min(0).max(87_600).default(26),
    /** Seconds each target may take; all targets are sent to in parallel. */
    timeout: seconds(10, 300),
    /** Extra PEM CA bundle trusted for https/TLS targets (self-signed servers); "" for none. */
    ca_file: z.union([z.literal(""), absolutePath]).default(""),
  })
  .prefault({});

export const MetricsSchema = z
  .strictObject({
    /** Prometheus textfile for node_exporter, rewritten atomically after every run; "" for none. */
    textfile: z.union([z.literal(""), absolutePath]).default(""),
  })
  .prefault({});

// --- end alerts and metrics ---

/** Disaster-recovery bundles refreshed after backups (`dr export` by hand needs none of this). */
export const DrSchema = z
  .strictObject({
    /** Directory a new bundle is written to after a successful backup when the config or repository changed; "" for never. */
    export_after_backup: z.union([z.literal(""), absolutePath]).default(""),
    /** Bundles kept in that directory (older ones are removed). */
    keep: z.number().int().min(1).max(100).default(3),
    /** The bundles' passphrase (0600 file, kept apart from the bundles): needed when export_after_backup is set. */
    passphrase_file: z.union([z.literal(""), absolutePath]).default(""),
  })
  .refine((d) => !d.export_after_backup || d.passphrase_file, {
    message: "export_after_backup needs passphrase_file (a generated passphrase is never stored)",
    path: ["passphrase_file"],
  })
  .prefault({});

/**
 * Which kopia runs: "auto" (a kopia >= the minimum on PATH, else the one inside a full binary), "path"
 * (PATH only), "embedded" (the one inside, extracted under state_dir/bin), or an absolute path.
 */
export const KopiaSchema = z
  .strictObject({
    binary: z.union([z.enum(["auto", "path", "embedded"]), absolutePath]).default("auto"),
  })
  .prefault({});

export const ConfigSchema = z
  .strictObject({
    kopia: KopiaSchema,
    repository: RepositorySchema,
    replicas: ReplicasSchema,
    retention: RetentionSchema,
    backup: BackupSchema,
    paths: PathsSchema,
    docker: DockerSchema,
    schedule: ScheduleSchema,
    alerts: AlertsSchema,
    metrics: MetricsSchema,
    dr: DrSchema,
    units: z.record(z.string().min(1), UnitOverrideSchema).default({}),
  })
  .prefault({});

export type Config = z.infer<typeof ConfigSchema>;
export type RepositoryConfig = Config["repository"];
export type ReplicaConfig = Config["replicas"][number];
export type UnitOverride = z.infer<typeof UnitOverrideSchema>;
export type AlertsConfig = Config["alerts"];

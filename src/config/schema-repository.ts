import { z } from "zod";
import { azureSchema } from "../core/repository/backends/azure.ts";
import { b2Schema } from "../core/repository/backends/b2.ts";
import { filesystemSchema } from "../core/repository/backends/filesystem.ts";
import { gcsSchema } from "../core/repository/backends/gcs.ts";
import { rcloneSchema } from "../core/repository/backends/rclone.ts";
import { s3Schema } from "../core/repository/backends/s3.ts";
import { serverSchema } from "../core/repository/backends/server.ts";
import { sftpSchema } from "../core/repository/backends/sftp.ts";
import { tailscaleSchema } from "../core/repository/backends/tailscale.ts";
import { webdavSchema } from "../core/repository/backends/webdav.ts";
import { speed } from "../core/repository/fields.ts";
import { absolutePath } from "./schema-fields.ts";

/** `[repository]` and `[[replicas]]` of the config: one strict schema per kopia backend. */

/** Kopia compression algorithms accepted by `policy set --compression`. */
export const COMPRESSIONS = [
  "none",
  "zstd",
  "zstd-fastest",
  "zstd-better-compression",
  "zstd-best-compression",
  "s2-default",
  "s2-better",
  "s2-parallel-4",
  "s2-parallel-8",
  "pgzip",
  "pgzip-best-speed",
  "pgzip-best-compression",
  "gzip",
  "gzip-best-speed",
  "gzip-best-compression",
  "deflate-best-speed",
  "deflate-default",
  "deflate-best-compression",
] as const;

const commonRepository = {
  /**
   * File holding the repository password (mode 0600); with backend "server", this host's server user
   * password. Generated when a filesystem repository is created on first use, or by `repo init`.
   */
  password_file: absolutePath.default("/var/lib/kopi-docka/repository.password"),
  /** Host name recorded on snapshots. Empty: this machine's name, lower-cased, up to the first dot. */
  hostname: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]*$|^$/, "lower-case letters, digits, . _ -")
    .default(""),
  compression: z.enum(COMPRESSIONS).default("zstd"),
  /** Kopia's content and metadata cache budget in MiB (0: kopia's own default). */
  cache_size_mb: z.number().int().min(0).max(100_000).default(500),
  /** Bytes per second kopia may send to / read from the storage (0: no limit). */
  max_upload_speed: speed,
  max_download_speed: speed,
};

const withDefaultBackend = (v: unknown) =>
  v !== null && typeof v === "object" && !Array.isArray(v) && !("backend" in v)
    ? { ...v, backend: "filesystem" }
    : v;

/** Each kopia backend's own schema, by its `backend` name. */
export const BACKEND_SCHEMAS = {
  filesystem: filesystemSchema,
  sftp: sftpSchema,
  s3: s3Schema,
  b2: b2Schema,
  azure: azureSchema,
  gcs: gcsSchema,
  rclone: rcloneSchema,
  webdav: webdavSchema,
  server: serverSchema,
  tailscale: tailscaleSchema,
};

/** The keys `[repository]` takes with `backend`: its backend's own and the common ones. */
export function repositoryKeys(backend: keyof typeof BACKEND_SCHEMAS): Set<string> {
  return new Set([...Object.keys(BACKEND_SCHEMAS[backend].shape), ...Object.keys(commonRepository)]);
}

/** One strict schema per kopia backend (src/core/repository/backends/), all sharing the common keys. */
export const RepositorySchema = z
  .preprocess(
    withDefaultBackend,
    z.discriminatedUnion("backend", [
      filesystemSchema.extend(commonRepository),
      sftpSchema.extend(commonRepository),
      s3Schema.extend(commonRepository),
      b2Schema.extend(commonRepository),
      azureSchema.extend(commonRepository),
      gcsSchema.extend(commonRepository),
      rcloneSchema.extend(commonRepository),
      webdavSchema.extend(commonRepository),
      serverSchema.extend(commonRepository),
      tailscaleSchema.extend(commonRepository),
    ]),
  )
  .prefault({});

const replicaKeys = {
  /** How the replica is named in `repo sync --replica`, `restore --repository replica:NAME` and run records. */
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, "lower-case letters, digits, _ and -"),
  max_upload_speed: speed,
  max_download_speed: speed,
};

/**
 * Second copies of the repository (3-2-1): any backend but a repository server, each with its own
 * keys; kopia's `repository sync-to` copies the repository there after each successful backup. The
 * copy has the same password (it is the same repository).
 */
export const ReplicasSchema = z
  .array(
    z.discriminatedUnion("backend", [
      filesystemSchema.extend(replicaKeys),
      sftpSchema.extend(replicaKeys),
      s3Schema.extend(replicaKeys),
      b2Schema.extend(replicaKeys),
      azureSchema.extend(replicaKeys),
      gcsSchema.extend(replicaKeys),
      rcloneSchema.extend(replicaKeys),
      webdavSchema.extend(replicaKeys),
    ]),
  )
  .refine((rs) => new Set(rs.map((r) => r.name)).size === rs.length, "replica names must be unique")
  .default([]);

import { z } from "zod";
import type { RepositoryConfig } from "../../../config/schema.ts";
import type { Backend } from "../backend.ts";
import { storageMatches, throttleArgs } from "../backend.ts";
import { absolutePath, nonEmpty, prefix, secretKeys } from "../fields.ts";
import { hostPort } from "../reach.ts";

export const s3Schema = z.strictObject({
  backend: z.literal("s3"),
  bucket: nonEmpty,
  /** Key prefix inside the bucket; end it with "/" to use it as a folder. */
  prefix,
  /** host[:port] of the S3 API; any S3-compatible store (MinIO, Ceph, Wasabi, …). */
  endpoint: nonEmpty.default("s3.amazonaws.com"),
  region: z.string().default(""),
  /** false: plain HTTP (a store on a trusted local network only). */
  tls: z.boolean().default(true),
  /** CA certificate (PEM) of a self-hosted store's TLS certificate. */
  ca_file: absolutePath.optional(),
  ...secretKeys("access_key_id"),
  ...secretKeys("secret_access_key"),
  ...secretKeys("session_token"),
});

type S3 = Extract<RepositoryConfig, { backend: "s3" }>;

export const s3: Backend<S3> = {
  canCreate: true,
  storageArgs: (r) => [
    "s3",
    "--bucket",
    r.bucket,
    "--endpoint",
    r.endpoint,
    ...(r.prefix ? ["--prefix", r.prefix] : []),
    ...(r.region ? ["--region", r.region] : []),
    ...(r.tls ? [] : ["--disable-tls"]),
    ...(r.ca_file ? ["--root-ca-pem-path", r.ca_file] : []),
    ...throttleArgs(r),
  ],
  secrets: () => [
    { key: "access_key_id", env: "AWS_ACCESS_KEY_ID", required: true },
    { key: "secret_access_key", env: "AWS_SECRET_ACCESS_KEY", required: true },
    { key: "session_token", env: "AWS_SESSION_TOKEN", required: false },
  ],
  endpoint: (r) => hostPort(r.endpoint, r.tls ? 443 : 80),
  tools: () => [],
  describe: (r) => `s3://${r.bucket}/${r.prefix} at ${r.tls ? "https" : "http"}://${r.endpoint}`,
  matches: (saved, r) =>
    storageMatches(
      saved,
      "s3",
      { bucket: r.bucket, prefix: r.prefix, endpoint: r.endpoint, doNotUseTLS: !r.tls || undefined },
      r,
    ),
};

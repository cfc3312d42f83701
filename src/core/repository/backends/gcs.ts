import { z } from "zod";
import type { RepositoryConfig } from "../../../config/schema.ts";
import type { Backend } from "../backend.ts";
import { storageMatches, throttleArgs } from "../backend.ts";
import { absolutePath, nonEmpty, prefix } from "../fields.ts";
import { hostPort } from "../reach.ts";

export const gcsSchema = z.strictObject({
  backend: z.literal("gcs"),
  bucket: nonEmpty,
  prefix,
  /** Service account key (JSON, mode 0600). Unset: Google's default credentials. */
  credentials_file: absolutePath.optional(),
});

type Gcs = Extract<RepositoryConfig, { backend: "gcs" }>;

/**
 * Google Cloud Storage. kopia takes the credentials as a file path (no variable), so the file itself
 * is the secret's carrier: checked 0600 like every other. STORAGE_EMULATOR_HOST in our environment
 * reaches kopia unchanged (Google's client then talks to that emulator).
 */
export const gcs: Backend<Gcs> = {
  canCreate: true,
  storageArgs: (r) => [
    "gcs",
    "--bucket",
    r.bucket,
    ...(r.prefix ? ["--prefix", r.prefix] : []),
    ...(r.credentials_file ? ["--credentials-file", r.credentials_file] : []),
    ...throttleArgs(r),
  ],
  secrets: () => [],
  endpoint: (_r, env) =>
    env.STORAGE_EMULATOR_HOST
      ? hostPort(env.STORAGE_EMULATOR_HOST.replace(/^https?:\/\//, "").replace(/\/.*$/, ""), 80)
      : { host: "storage.googleapis.com", port: 443 },
  tools: () => [],
  describe: (r) => `gs://${r.bucket}/${r.prefix}`,
  matches: (saved, r) => storageMatches(saved, "gcs", { bucket: r.bucket, prefix: r.prefix }, r),
};

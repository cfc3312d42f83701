import { z } from "zod";
import type { RepositoryConfig } from "../../../config/schema.ts";
import type { Backend } from "../backend.ts";
import { storageMatches, throttleArgs } from "../backend.ts";
import { nonEmpty, prefix, secretKeys } from "../fields.ts";

export const b2Schema = z.strictObject({
  backend: z.literal("b2"),
  bucket: nonEmpty,
  prefix,
  ...secretKeys("key_id"),
  ...secretKeys("application_key"),
});

type B2 = Extract<RepositoryConfig, { backend: "b2" }>;

/** Backblaze B2 through kopia's native client. Not tested against the real service (no emulator). */
export const b2: Backend<B2> = {
  canCreate: true,
  storageArgs: (r) => [
    "b2",
    "--bucket",
    r.bucket,
    ...(r.prefix ? ["--prefix", r.prefix] : []),
    ...throttleArgs(r),
  ],
  secrets: () => [
    { key: "key_id", env: "B2_KEY_ID", required: true },
    { key: "application_key", env: "B2_KEY", required: true },
  ],
  endpoint: () => ({ host: "api.backblazeb2.com", port: 443 }),
  tools: () => [],
  describe: (r) => `b2://${r.bucket}/${r.prefix}`,
  matches: (saved, r) => storageMatches(saved, "b2", { bucket: r.bucket, prefix: r.prefix }, r),
};

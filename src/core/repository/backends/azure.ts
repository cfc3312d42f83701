import { z } from "zod";
import type { RepositoryConfig } from "../../../config/schema.ts";
import type { Backend, SecretSlot } from "../backend.ts";
import { storageMatches, throttleArgs } from "../backend.ts";
import { nonEmpty, prefix, secretKeys } from "../fields.ts";

export const azureSchema = z.strictObject({
  backend: z.literal("azure"),
  container: nonEmpty,
  storage_account: nonEmpty,
  prefix,
  /** "" : blob.core.windows.net (other clouds and emulators differ). */
  storage_domain: z.string().default(""),
  /** One way to authenticate: an account key, a SAS token, or a service principal. */
  ...secretKeys("storage_key"),
  ...secretKeys("sas_token"),
  tenant_id: z.string().default(""),
  client_id: z.string().default(""),
  ...secretKeys("client_secret"),
});

type Azure = Extract<RepositoryConfig, { backend: "azure" }>;

const given = (r: Record<string, unknown>, key: string) => Boolean(r[`${key}_file`] || r[`${key}_env`]);

export const azure: Backend<Azure> = {
  canCreate: true,
  storageArgs: (r) => [
    "azure",
    "--container",
    r.container,
    "--storage-account",
    r.storage_account,
    ...(r.prefix ? ["--prefix", r.prefix] : []),
    ...(r.storage_domain ? ["--storage-domain", r.storage_domain] : []),
    ...(r.tenant_id ? ["--tenant-id", r.tenant_id] : []),
    ...(r.client_id ? ["--client-id", r.client_id] : []),
    ...throttleArgs(r),
  ],
  // The service principal when a client id is set; else a SAS token when given; else the account key.
  secrets: (r): SecretSlot[] =>
    r.client_id
      ? [{ key: "client_secret", env: "AZURE_CLIENT_SECRET", required: true }]
      : given(r, "sas_token")
        ? [{ key: "sas_token", env: "AZURE_STORAGE_SAS_TOKEN", required: true }]
        : [{ key: "storage_key", env: "AZURE_STORAGE_KEY", required: true }],
  endpoint: (r) => ({
    host: `${r.storage_account}.${r.storage_domain || "blob.core.windows.net"}`,
    port: 443,
  }),
  tools: () => [],
  describe: (r) => `azure://${r.storage_account}/${r.container}/${r.prefix}`,
  matches: (saved, r) =>
    storageMatches(
      saved,
      "azureBlob",
      {
        container: r.container,
        storageAccount: r.storage_account,
        prefix: r.prefix,
        storageDomain: r.storage_domain || undefined,
      },
      r,
    ),
};

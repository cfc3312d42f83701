import { z } from "zod";
import type { RepositoryConfig } from "../../../config/schema.ts";
import { urlEndpoint } from "../../tcp-probe.ts";
import type { Backend } from "../backend.ts";

export const serverSchema = z.strictObject({
  backend: z.literal("server"),
  /** The kopia repository server, https://host:port. */
  url: z.string().regex(/^https:\/\/\S+$/, "an https:// URL"),
  /** SHA-256 of the server's TLS certificate (hex, as `kopia server start` prints it). */
  server_cert_fingerprint: z
    .string()
    .transform((s) => s.replace(/:/g, "").toLowerCase())
    .pipe(z.string().regex(/^[0-9a-f]{64}$/, "a SHA-256 fingerprint: 64 hex digits")),
});

type Server = Extract<RepositoryConfig, { backend: "server" }>;

/**
 * A kopia repository server. This host is the server user `kopi-docka@<hostname>`; its password is
 * repository.password_file (the one `kopia server user add` was given). The server owns the storage,
 * so there is nothing to create and no throttle here.
 */
export const server: Backend<Server> = {
  canCreate: false,
  storageArgs: (r) => ["server", "--url", r.url, "--server-cert-fingerprint", r.server_cert_fingerprint],
  secrets: () => [],
  endpoint: (r) => urlEndpoint(r.url),
  tools: () => [],
  describe: (r) => r.url,
  matches: (saved, r) =>
    saved.apiServer?.url === r.url && saved.apiServer?.serverCertFingerprint === r.server_cert_fingerprint,
  differs: (saved, r) =>
    saved.apiServer?.url === r.url && saved.apiServer?.serverCertFingerprint !== r.server_cert_fingerprint
      ? "server certificate fingerprint"
      : undefined,
};

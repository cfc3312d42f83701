import { z } from "zod";
import type { RepositoryConfig } from "../../../config/schema.ts";
import type { Backend } from "../backend.ts";
import { storageMatches, throttleArgs } from "../backend.ts";
import { secretKeys } from "../fields.ts";

export const webdavSchema = z.strictObject({
  backend: z.literal("webdav"),
  url: z.string().regex(/^https?:\/\/\S+$/, "an http:// or https:// URL"),
  username: z.string().default(""),
  ...secretKeys("webdav_password"),
});

type Webdav = Extract<RepositoryConfig, { backend: "webdav" }>;

const hasPassword = (r: Webdav) => Boolean(r.webdav_password_file || r.webdav_password_env);

export const webdav: Backend<Webdav> = {
  canCreate: true,
  storageArgs: (r) => ["webdav", "--url", r.url, ...throttleArgs(r)],
  // Without a username the server is open; with one, a password is required.
  secrets: (r) =>
    r.username || hasPassword(r)
      ? [{ key: "webdav_password", env: "KOPIA_WEBDAV_PASSWORD", required: true }]
      : [],
  env: (r): Record<string, string> => (r.username ? { KOPIA_WEBDAV_USERNAME: r.username } : {}),
  tools: () => [],
  describe: (r) => r.url.replace(/\/\/[^/@]*@/, "//"),
  matches: (saved, r) => storageMatches(saved, "webdav", { url: r.url }, r),
};

import { z } from "zod";
import type { RepositoryConfig } from "../../../config/schema.ts";
import { urlEndpoint } from "../../tcp-probe.ts";
import type { Backend } from "../backend.ts";
import { judgeListing, storageMatches, throttleArgs } from "../backend.ts";
import { secretKeys } from "../fields.ts";
import { credentialsRefused } from "../problems.ts";

export const webdavSchema = z.strictObject({
  backend: z.literal("webdav"),
  url: z
    .string()
    .regex(/^https?:\/\/\S+$/, "an http:// or https:// URL")
    // kopia takes the URL on its command line, which every user sees in `ps`.
    .refine(
      (u) => !/^https?:\/\/[^/?#]*@/.test(u),
      "no user or password in the URL (kopia's command line shows it): set username and webdav_password_file",
    ),
  username: z.string().default(""),
  ...secretKeys("webdav_password"),
});

type Webdav = Extract<RepositoryConfig, { backend: "webdav" }>;

const describeUrl = (url: string) => url.replace(/\/\/[^/@]*@/, "//");

function auth(env: Record<string, string>): Record<string, string> {
  const user = env.KOPIA_WEBDAV_USERNAME;
  return user ? { Authorization: `Basic ${btoa(`${user}:${env.KOPIA_WEBDAV_PASSWORD ?? ""}`)}` } : {};
}

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
  endpoint: (r) => urlEndpoint(r.url),
  tools: () => [],
  // kopia's WebDAV client does not create the collection it is pointed at.
  async prepareCreate(r, io) {
    const res = await fetch(r.url, {
      method: "MKCOL",
      headers: auth(io.env),
      signal: AbortSignal.timeout(60_000),
    });
    if (!res.ok && res.status !== 405) throw new Error(`MKCOL ${describeUrl(r.url)}: HTTP ${res.status}`);
  },
  // A WebDAV listing (PROPFIND, depth 1): every href but the collection itself is something there.
  // A 401/403 is the refused credentials kopia would meet next (exit 12), told before it runs.
  async probeRemote(r, io) {
    const headers = { Depth: "1", ...auth(io.env) };
    const res = await fetch(r.url, {
      method: "PROPFIND",
      headers,
      signal: AbortSignal.timeout(60_000),
    }).catch(() => undefined);
    if (res?.status === 401 || res?.status === 403)
      throw credentialsRefused(new Error(`PROPFIND: HTTP ${res.status}`), r, describeUrl(r.url));
    if (res?.status === 404) return "empty";
    if (res?.status !== 207 || !res) return "unknown";
    const self = new URL(r.url).pathname.replace(/\/?$/, "/");
    const hrefs = [...(await res.text()).matchAll(/<(?:\w+:)?href>([^<]+)<\/(?:\w+:)?href>/gi)]
      .map((m) => decodeURIComponent(new URL(m[1] ?? "", r.url).pathname).replace(/\/?$/, "/"))
      .filter((p) => p !== self);
    return judgeListing(hrefs);
  },
  describe: (r) => describeUrl(r.url),
  matches: (saved, r) => storageMatches(saved, "webdav", { url: r.url }, r),
};

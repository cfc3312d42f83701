import { createHash } from "node:crypto";
import type { NotifyLevel } from "../../config/schema.ts";
import { TargetConfigError } from "./errors.ts";
import { maskUrl } from "./mask.ts";
import type { HttpService, HttpTarget, MailTarget, Target } from "./target.ts";

/** The API host each fixed-host service posts to; `?host=` replaces it (a proxy, or a test receiver). */
const FIXED_HOST: Partial<Record<HttpService, string>> = {
  discord: "discord.com",
  slack: "hooks.slack.com",
  tgram: "api.telegram.org",
};

interface Parts {
  scheme: string;
  user?: string;
  pass?: string;
  host: string;
  path: string[];
  query: URLSearchParams;
}

/** Split by hand: `tgram://123:ABC/42` is no WHATWG URL (its "port" is not a number). */
function split(url: string, label: string): Parts {
  const m = /^([a-z]+):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?$/i.exec(url);
  if (!m) throw new TargetConfigError(label, "not a URL of the form scheme://…");
  const authority = m[2] ?? "";
  // An `@` after the authority: user info cut short by a `/` in an unencoded password. What reads as
  // the host is part of the secret (a post there would carry the rest of it in its path).
  if (!authority.includes("@") && (m[3] ?? "").includes("@"))
    throw new TargetConfigError(
      label,
      "an @ after the host: a password with / ? # in it must be URL-encoded, or come from a $" + "{file:…}",
    );
  const at = authority.lastIndexOf("@");
  const userinfo = at >= 0 ? authority.slice(0, at) : undefined;
  const colon = userinfo?.indexOf(":") ?? -1;
  const dec = (s: string) => decodeURIComponent(s);
  return {
    scheme: (m[1] ?? "").toLowerCase(),
    user: userinfo === undefined ? undefined : dec(colon >= 0 ? userinfo.slice(0, colon) : userinfo),
    pass: userinfo !== undefined && colon >= 0 ? dec(userinfo.slice(colon + 1)) : undefined,
    host: at >= 0 ? authority.slice(at + 1) : authority,
    path: (m[3] ?? "").split("/").filter(Boolean).map(dec),
    query: new URLSearchParams(m[4] ?? ""),
  };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/i;

/** `https://host` of a service, or plain http where the URL asks for it and the host is loopback. */
function origin(p: Parts, label: string, tls: boolean, host: string): string {
  const scheme = p.query.get("scheme") ?? (tls ? "https" : "http");
  if (scheme !== "http" && scheme !== "https")
    throw new TargetConfigError(label, `scheme=${scheme}: use http or https`);
  if (scheme === "http" && tls && !LOOPBACK.test(host))
    throw new TargetConfigError(
      label,
      "plain http is allowed on loopback only (secrets would travel in clear)",
    );
  if (!/^[a-z0-9.-]+(:\d+)?$|^\[[0-9a-f:]+\](:\d+)?$/i.test(host))
    // Not echoed: user info cut short by a `/` in an unencoded password reads as the host here.
    throw new TargetConfigError(
      label,
      "the part after :// is not a host name (a password with / ? # @ in it must be URL-encoded, or come from a $" +
        "{file:…})",
    );
  return `${scheme}://${host}`;
}

function need(p: Parts, n: number, label: string, form: string): void {
  if (!p.host || p.path.length < n) throw new TargetConfigError(label, `expected ${form}`);
}

const basic = (u: string, pw: string) => `Basic ${Buffer.from(`${u}:${pw}`).toString("base64")}`;

function httpTarget(p: Parts, label: string): Omit<HttpTarget, "kind"> & { secrets: string[] } {
  const tls = ["ntfys", "gotifys", "jsons"].includes(p.scheme);
  const secrets = [p.pass, p.query.get("token"), ...p.path].filter((s): s is string => !!s);
  const headers: Record<string, string> = {};
  if (p.user !== undefined && p.pass !== undefined) headers.Authorization = basic(p.user, p.pass);
  const token = p.query.get("token");
  const enc = (parts: string[]) => parts.map(encodeURIComponent).join("/");
  switch (p.scheme) {
    case "ntfy":
    case "ntfys":
      need(p, 1, label, "ntfy[s]://[user:pass@]host[:port]/topic[?token=…]");
      if (token) headers.Authorization = `Bearer ${token}`;
      return {
        service: "ntfy",
        endpoint: `${origin(p, label, tls, p.host)}/${enc(p.path)}`,
        headers,
        secrets,
      };
    case "gotify":
    case "gotifys": {
      need(p, 1, label, "gotify[s]://host[:port][/path]/token");
      const key = p.path[p.path.length - 1] ?? "";
      headers["X-Gotify-Key"] = key;
      const prefix = enc(p.path.slice(0, -1));
      const endpoint = `${origin(p, label, tls, p.host)}${prefix ? `/${prefix}` : ""}/message`;
      return { service: "gotify", endpoint, headers, secrets };
    }
    case "json":
    case "jsons":
      need(p, 0, label, "json[s]://[user:pass@]host[:port]/path");
      return {
        service: "json",
        endpoint: `${origin(p, label, tls, p.host)}/${enc(p.path)}`,
        headers,
        secrets,
      };
  }
  // discord://ID/TOKEN, slack://T/B/X, tgram://BOTTOKEN/CHAT: the "host" is the first secret segment.
  const parts = [p.host, ...p.path].filter(Boolean).map((s) => decodeURIComponent(s));
  secrets.push(...parts);
  const service = p.scheme as "discord" | "slack" | "tgram";
  const api = origin(p, label, true, p.query.get("host") ?? FIXED_HOST[service] ?? "");
  if (service === "discord") {
    if (parts.length !== 2) throw new TargetConfigError(label, "expected discord://WEBHOOK_ID/WEBHOOK_TOKEN");
    return { service, endpoint: `${api}/api/webhooks/${enc(parts)}`, headers, secrets };
  }
  if (service === "slack") {
    if (parts.length !== 3)
      throw new TargetConfigError(label, "expected slack://T…/B…/secret (incoming webhook)");
    return { service, endpoint: `${api}/services/${enc(parts)}`, headers, secrets };
  }
  if (parts.length !== 2) throw new TargetConfigError(label, "expected tgram://BOT_TOKEN/CHAT_ID");
  return {
    service,
    endpoint: `${api}/bot${encodeURIComponent(parts[0] ?? "")}/sendMessage`,
    headers,
    secrets,
    chatId: parts[1],
  };
}

function mailTarget(
  p: Parts,
  label: string,
  hostname: string,
): Omit<MailTarget, "kind"> & { secrets: string[] } {
  const m = /^([^:]+|\[[^\]]+\])(?::(\d+))?$/.exec(p.host);
  if (!m?.[1]) throw new TargetConfigError(label, "expected mailto[s]://user:pass@smtp.host[:port]?to=addr");
  const secure = p.scheme === "mailtos";
  const to = (p.query.get("to") ?? (p.user?.includes("@") ? p.user : ""))
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (to.length === 0) throw new TargetConfigError(label, "no recipient: add ?to=you@example.org");
  const from =
    p.query.get("from") ?? (p.user?.includes("@") ? `kopi-docka <${p.user}>` : `kopi-docka@${hostname}`);
  return {
    host: m[1],
    port: m[2] ? Number(m[2]) : secure ? 465 : 587,
    secure,
    user: p.user || undefined,
    pass: p.pass,
    from,
    to,
    secrets: [p.pass].filter((s): s is string => !!s),
  };
}

/**
 * A target's `id`: 16 hex digits of a SHA-256 of its resolved URL. A one-way digest, so the pending
 * files never hold the URL; they are root's 0600 files, as private as the `url_file` it came from.
 */
function targetId(url: string): string {
  return createHash("sha256").update(`kopi-docka alert target\0${url.trim()}`).digest("hex").slice(0, 16);
}

/** Parses a resolved (variables expanded) notification URL into a target. */
export function parseTarget(url: string, level: NotifyLevel, hostname = "localhost"): Target {
  const label = maskUrl(url);
  let p: Parts;
  try {
    p = split(url.trim(), label);
  } catch (e) {
    if (e instanceof TargetConfigError) throw e;
    throw new TargetConfigError(label, "not a valid URL (bad %-escape?)");
  }
  const base = { label, level, id: targetId(url) };
  if (p.scheme === "mailto" || p.scheme === "mailtos") {
    const t = mailTarget(p, label, hostname);
    return { kind: "mail", ...base, ...t, secrets: [url, ...t.secrets] };
  }
  const service = p.scheme.replace(/s$/, "");
  if (!["ntfy", "gotify", "discord", "slack", "tgram", "json"].includes(service) || p.scheme === "slacks")
    throw new TargetConfigError(
      label,
      `unknown scheme ${p.scheme}://`,
      "use ntfy(s)://, gotify(s)://, discord://, slack://, tgram://, json(s)://, mailto(s)://",
    );
  const t = httpTarget(p, label);
  return { kind: "http", ...base, ...t, secrets: [url, ...t.secrets] };
}

/**
 * Secrets in notification URLs: tokens sit in the user info, the path (webhook ids, bot tokens, ntfy
 * topics) and the query. What is shown anywhere is the scheme and the host, nothing more.
 */

/** Services whose host part is itself a secret id (`discord://ID/TOKEN`, `tgram://TOKEN/CHAT`). */
const HOSTLESS = new Set(["discord", "slack", "tgram"]);

/** `ntfys://ntfy.example/mytopic?token=x` → `ntfys://ntfy.example/***`. Never throws. */
export function maskUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/i.exec(url.trim());
  if (!m) return "***";
  const scheme = (m[1] ?? "").toLowerCase();
  const authority = m[2] ?? "";
  const rest = m[3] ?? "";
  if (HOSTLESS.has(scheme)) return `${scheme}://***`;
  const at = authority.lastIndexOf("@");
  // No `@` in the authority, yet one later, or a `:` not followed by a port: user info cut short by a
  // `/`, `?` or `#` in an unencoded password. What looks like the host is part of the secret.
  if (at < 0 && (rest.includes("@") || !/^[^:]*(:\d*)?$/.test(authority))) return `${scheme}://***`;
  const host = at >= 0 ? authority.slice(at + 1) : authority;
  const info = at >= 0 ? authority.slice(0, at) : "";
  // A user name is shown; user info without a `:` may be a token (`ntfys://TOKEN@host`): never.
  const who = !info ? "" : info.includes(":") ? `${decodeSafe(info.split(":")[0] ?? "")}:***@` : "***@";
  return `${scheme}://${who}${host}${rest && rest !== "/" ? "/***" : ""}`;
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Replaces every occurrence of each secret (and its URL-encoded form) in `text` with `***`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  const all = secrets.flatMap((s) => [s, encodeURIComponent(s)]).filter((s) => s.length >= 3);
  for (const s of [...new Set(all)].sort((a, b) => b.length - a.length)) out = out.split(s).join("***");
  return out;
}

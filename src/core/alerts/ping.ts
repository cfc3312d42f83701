import type { AlertsConfig } from "../../config/schema.ts";

export interface PingRequest {
  url: string;
  method: "GET" | "POST";
  body?: string;
}

/**
 * Heartbeat URLs by convention. healthchecks (Healthchecks.io): `/start`, then the base URL on
 * success or `/<exit code>` on failure; fail: `/start`, base, `/fail`; uptime-kuma (push monitor):
 * no start signal, `?status=up|down&msg=…` at the end. Bodies carry the run summary (no secrets).
 *
 * A ping that fails is never kept and sent later, unlike an alert (`retry.ts`): a heartbeat means
 * "now". A late success would tell the monitor the backups are fresh when they are not; a late
 * `/start` would open a run that is long over, and a late failure fail a check a later run had made
 * good. A ping that did not arrive is itself the alert: the monitor's grace period reports it.
 */
export function pingRequest(
  base: string,
  style: AlertsConfig["ping_style"],
  at: { phase: "start" } | { phase: "end"; exitCode: number; summary: string },
): PingRequest | undefined {
  if (style === "uptime-kuma") {
    if (at.phase === "start") return undefined;
    const url = new URL(base);
    url.searchParams.set("status", at.exitCode === 0 ? "up" : "down");
    url.searchParams.set("msg", at.summary.split("\n")[0]?.slice(0, 200) ?? "");
    return { url: url.toString(), method: "GET" };
  }
  if (at.phase === "start") return { url: withPathTail(base, "start"), method: "POST", body: "" };
  if (at.exitCode === 0) return { url: base, method: "POST", body: at.summary };
  const tail = style === "healthchecks" ? String(at.exitCode) : "fail";
  return { url: withPathTail(base, tail), method: "POST", body: at.summary };
}

/**
 * `tail` as the URL path's last segment, its query kept after it: Healthchecks' own form
 * `…/<key>/<slug>?create=1` pings `…/<slug>/start?create=1`, where a string append would put the
 * suffix inside the query and turn every start and failure ping into a success.
 */
function withPathTail(base: string, tail: string): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/${tail}`;
  return url.toString();
}

import type { RepositoryConfig } from "../../config/schema.ts";
import { AppError } from "../errors.ts";
import { tcpProbe } from "../tcp-probe.ts";

/** `host[:port]` with a default port. */
export function hostPort(value: string, defaultPort: number): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(value);
  return { host: m?.[1] ?? value, port: m?.[2] ? Number(m[2]) : defaultPort };
}

const PROXY_VARS = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"];

/**
 * The connection test: one TCP connect to the backend's server, seconds instead of kopia's minutes of
 * retries when it is down. Skipped behind a proxy (kopia goes through it; we would not).
 */
export async function checkReachable(
  repo: RepositoryConfig,
  endpoint: { host: string; port: number } | undefined,
  where: string,
  timeoutMs = 10_000,
): Promise<void> {
  if (!endpoint || PROXY_VARS.some((v) => process.env[v])) return;
  const problem = await tcpProbe(endpoint.host, endpoint.port, timeoutMs);
  if (problem)
    throw new AppError(
      "repository",
      `cannot reach the repository at ${where} (${endpoint.host}:${endpoint.port}: ${problem}): is the server up?`,
      {
        hint: `check the server, the network and [repository] in the config (backend ${repo.backend}); nothing was stopped or changed`,
      },
    );
}

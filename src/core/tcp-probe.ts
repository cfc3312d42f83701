import { connect } from "node:net";

/** host:port of a URL, with the scheme's default port. */
export function urlEndpoint(url: string): { host: string; port: number } | undefined {
  try {
    const u = new URL(url);
    return {
      host: u.hostname.replace(/^\[|\]$/g, ""),
      port: Number(u.port) || (u.protocol === "https:" ? 443 : 80),
    };
  } catch {
    return undefined;
  }
}

/**
 * Opens one TCP connection to host:port and closes it again; nothing is sent. Resolves undefined when
 * it opened, else why not (`ECONNREFUSED`, `no answer within 3 s`). Shared by the repository's
 * connection test and doctor's check of alert targets.
 */
export function tcpProbe(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    // URL hostnames keep an IPv6 literal's brackets; net.connect wants it bare.
    const socket = connect({ host: host.replace(/^\[|\]$/g, ""), port });
    const done = (problem?: string) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs / 1000} s`));
    socket.once("connect", () => done());
    socket.once("error", (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

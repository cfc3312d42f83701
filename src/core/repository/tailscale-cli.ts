import { z } from "zod";
import { AppError } from "../errors.ts";
import type { Runner } from "../process/runner.ts";

/** One node of the tailnet as `tailscale status --json` shows it (only what kopi-docka reads). */
const Node = z.looseObject({
  HostName: z.string().default(""),
  DNSName: z.string().default(""),
  TailscaleIPs: z.array(z.string()).nullish(),
  Online: z.boolean().optional(),
});
const Status = z.looseObject({
  BackendState: z.string().default(""),
  Self: Node.nullish(),
  Peer: z.record(z.string(), Node).nullish(),
});

export interface TailnetPeer {
  /** MagicDNS name without the trailing dot. */
  name: string;
  /** The address sftp connects to: its first Tailscale IPv4 (else the first address it has). */
  address: string;
  online: boolean;
}

export const STATUS_ARGV = ["tailscale", "status", "--json"] as const;
export const pingArgv = (peer: string) => ["tailscale", "ping", "--c", "1", "--timeout", "5s", peer];

const bare = (name: string) => name.trim().replace(/\.$/, "").toLowerCase();

/**
 * The peer named `wanted` (its full MagicDNS name, or the name's first label) in a status document.
 * undefined: no such peer. Throws when tailscale itself is not up (logged out, stopped).
 */
export function findPeer(json: string, wanted: string): TailnetPeer | undefined {
  let status: z.infer<typeof Status>;
  try {
    status = Status.parse(JSON.parse(json));
  } catch {
    throw new AppError("repository", "`tailscale status --json` answered something that is not its status");
  }
  if (status.BackendState !== "Running")
    throw new AppError(
      "repository",
      `tailscale is not connected here (state ${status.BackendState || "unknown"})`,
      {
        hint: "run `tailscale up` (or log in) on this host; nothing was stopped or changed",
      },
    );
  const want = bare(wanted);
  const node = Object.values(status.Peer ?? {}).find((n) => {
    const dns = bare(n.DNSName);
    return dns === want || (!want.includes(".") && dns.split(".")[0] === want);
  });
  if (!node) return undefined;
  const ips = node.TailscaleIPs ?? [];
  const address = ips.find((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip)) ?? ips[0];
  if (!address) return undefined;
  return { name: bare(node.DNSName), address, online: node.Online === true };
}

/** Round trip and path from `tailscale ping` output: `pong from NAME (IP) via WHERE in 12ms`. */
export function parsePing(stdout: string): { latencyMs: number; via: string } | undefined {
  const m = /^pong from \S+ \(([^)]*)\) via (.+?) in ([\d.]+)\s*(ms|s|µs|us)$/m.exec(stdout);
  if (!m) return undefined;
  const value = Number(m[3]);
  const ms = m[4] === "s" ? value * 1000 : m[4] === "ms" ? value : value / 1000;
  return { latencyMs: Math.round(ms * 10) / 10, via: m[2] as string };
}

function needTailscale(): void {
  if (!Bun.which("tailscale", { PATH: process.env.PATH ?? "" }))
    throw new AppError(
      "dependency_missing",
      "the tailscale repository needs `tailscale`, which is not on PATH",
      {
        hint: "install Tailscale (https://tailscale.com/download/linux) and run `tailscale up`",
      },
    );
}

/** The configured peer, looked up in this host's tailnet. Unknown → exit 10 naming it. */
export async function lookUpPeer(runner: Runner, wanted: string): Promise<TailnetPeer> {
  needTailscale();
  const res = await runner.run(STATUS_ARGV, { check: false, timeoutMs: 30_000 });
  if (res.exitCode !== 0)
    throw new AppError(
      "repository",
      `\`tailscale status\` failed: ${res.stderr.trim().split("\n")[0] ?? ""}`,
      {
        hint: "is tailscaled running on this host? nothing was stopped or changed",
      },
    );
  const peer = findPeer(res.stdout, wanted);
  if (!peer)
    throw new AppError("repository", `tailnet peer ${wanted} is not in this host's tailnet`, {
      hint: "check repository.peer against `tailscale status` (its MagicDNS name); nothing was stopped or changed",
    });
  return peer;
}

/** One `tailscale ping`; undefined when no pong came back. */
export async function pingPeer(runner: Runner, peer: string) {
  const res = await runner.run(pingArgv(peer), { check: false, timeoutMs: 30_000 });
  // With --c 1 a pong through a relay still exits 1 ("direct connection not established").
  return parsePing(res.stdout);
}

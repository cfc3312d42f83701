import { z } from "zod";
import type { RepositoryConfig } from "../../../config/schema.ts";
import { AppError } from "../../errors.ts";
import type { Backend } from "../backend.ts";
import { nonEmpty } from "../fields.ts";
import { lookUpPeer } from "../tailscale-cli.ts";
import { sftp, sftpSchema } from "./sftp.ts";

/** An SFTP repository on a tailnet peer: the sftp keys, with the peer's MagicDNS name for the host. */
export const tailscaleSchema = sftpSchema.omit({ backend: true, host: true }).extend({
  backend: z.literal("tailscale"),
  /** The peer's MagicDNS name (`nas.tailnet-x.ts.net`, or just `nas`). */
  peer: nonEmpty,
});

/** `address`: the peer's Tailscale IP, filled in by `resolve` before kopia or sftp runs. */
type Tailscale = Extract<RepositoryConfig, { backend: "tailscale" }> & { address?: string };
type Sftp = Extract<RepositoryConfig, { backend: "sftp" }>;

// Everything after the lookup is the sftp backend, on the peer's Tailscale IP: same key, same pinned
// known_hosts (which therefore names that IP). Before the lookup the MagicDNS name stands in.
const asSftp = ({ peer, address, ...r }: Tailscale): Sftp => ({
  ...r,
  backend: "sftp",
  host: address ?? peer,
});

export const tailscale: Backend<Tailscale> = {
  canCreate: true,
  async resolve(r, io) {
    const peer = await lookUpPeer(io.runner, r.peer);
    if (!peer.online)
      throw new AppError("repository", `tailnet peer ${peer.name} is offline`, {
        hint: "start the peer or bring it back onto the tailnet (`tailscale status` shows it); nothing was stopped or changed",
      });
    return { ...r, address: peer.address };
  },
  storageArgs: (r) => sftp.storageArgs(asSftp(r)),
  secrets: (r) => sftp.secrets(asSftp(r)),
  endpoint: (r, env) => sftp.endpoint?.(asSftp(r), env),
  tools: (r) => ["tailscale", ...sftp.tools(asSftp(r))],
  probeRemote: (r, io) => sftp.probeRemote?.(asSftp(r), io) ?? Promise.resolve("unknown"),
  describe: (r) =>
    `sftp://${r.user}@${r.peer}:${r.port}${r.path.startsWith("/") ? "" : "/"}${r.path} (tailnet)`,
  matches: (saved, r) => sftp.matches(saved, asSftp(r)),
};

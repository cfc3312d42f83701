import type { RepositoryConfig } from "../../../config/schema.ts";
import type { Backend } from "../backend.ts";
import { azure } from "./azure.ts";
import { b2 } from "./b2.ts";
import { filesystem } from "./filesystem.ts";
import { gcs } from "./gcs.ts";
import { rclone } from "./rclone.ts";
import { s3 } from "./s3.ts";
import { server } from "./server.ts";
import { sftp } from "./sftp.ts";
import { tailscale } from "./tailscale.ts";
import { webdav } from "./webdav.ts";

type ByName = { [B in RepositoryConfig["backend"]]: Backend<Extract<RepositoryConfig, { backend: B }>> };

const BACKENDS: ByName = { filesystem, sftp, s3, b2, azure, gcs, rclone, webdav, server, tailscale };

/** The backend module of a configured repository. */
export function backendOf(repo: RepositoryConfig): Backend {
  return BACKENDS[repo.backend] as unknown as Backend;
}

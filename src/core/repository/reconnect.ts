import { rmSync } from "node:fs";
import type { RepositoryConfig } from "../../config/schema.ts";
import { AppError } from "../errors.ts";
import { ensurePasswordFile } from "../kopia/password.ts";
import { type Backend, toolPackage } from "./backend.ts";
import { connectTo, createAt, missingPassword } from "./connect-or-create.ts";
import { sealDigest } from "./connection-digest.ts";
import type { OpenDeps, Opened, OpenMode, Target } from "./open.ts";
import { foreignData, missingRepository } from "./problems.ts";
import { type ConnectionMarker, readMarker, writeMarker } from "./saved.ts";
import { stagedConnection } from "./staged-connect.ts";

/**
 * A new connection to the configured repository, made beside the current one (`stagedConnection`):
 * the tools, a look at the location, then kopia's connect, or its create where `mode` allows one.
 * The caller holds the host lock. Whatever fails, the current connection stays.
 */
export async function reconnect(
  d: OpenDeps,
  mode: OpenMode,
  t: Target,
  o: { firstUse: boolean; replaced?: string },
): Promise<Opened> {
  const { repo, backend, location } = t;
  requireTools(repo, backend);
  const io = { runner: d.runner, env: t.secrets.env };
  const probe = backend.probe?.(repo) ?? (await backend.probeRemote?.(repo, io));
  d.log.debug(`${location}: ${probe ?? "not looked at before kopia"}`);
  if (probe === "foreign") throw foreignData(location);
  const mayCreate =
    backend.canCreate && (mode === "init" || (mode === "use" && o.firstUse && repo.backend === "filesystem"));
  const storage = backend.storageArgs(repo);
  // A repository we may create gets its password now: kopia needs one even to find out there is none.
  const generated = mayCreate && ensurePasswordFile(repo.password_file);
  try {
    const created = await stagedConnection(d, async (kopia) => {
      if (probe === undefined || probe === "unknown" || probe === "repository") {
        const connected = await connectTo(kopia, repo, storage, io.env, location).catch((e) => {
          if (generated && e instanceof AppError && e.code === "repository_auth")
            throw missingPassword(repo, location);
          throw e;
        });
        if (connected) return false;
      }
      if (!mayCreate) throw missingRepository(repo, location, backend.canCreate);
      if (probe === "empty" || probe === "missing") await backend.prepareCreate?.(repo, io);
      await createAt(kopia, d.log, repo, storage, io.env, location);
      return true;
    });
    if (generated && created)
      d.log.info(`generated a new repository password in ${repo.password_file}: keep a copy elsewhere`);
    return recordConnection(d, t, { created, location, replaced: o.replaced }, readMarker(d.paths.stateDir));
  } catch (e) {
    // Nothing of ours may stay behind when nothing was created.
    if (generated) rmSync(repo.password_file, { force: true });
    throw e;
  }
}

/** The programs besides kopia the backend runs, on PATH (exit 14 naming the package otherwise). */
export function requireTools(repo: RepositoryConfig, backend: Backend): void {
  for (const tool of backend.tools(repo))
    if (!Bun.which(tool))
      throw new AppError(
        "dependency_missing",
        `the ${repo.backend} repository needs \`${tool}\`, which is not on PATH`,
        {
          hint: `install ${tool} (Debian: apt install ${toolPackage(tool)})`,
        },
      );
}

/**
 * The marker: this host is connected to `o.location`, made of `t.inputs` (their digest only). `before`
 * is the marker as it was; one that already says all this is left as it is (every run opens).
 */
export function recordConnection(
  d: OpenDeps,
  t: Target,
  o: Opened,
  before: ConnectionMarker | undefined,
  digest = sealDigest(t.inputs),
): Opened {
  const same = before?.location === o.location;
  if (same && before.backend === t.repo.backend && before.connectionDigest === digest) return o;
  writeMarker(d.paths.stateDir, {
    backend: t.repo.backend,
    location: o.location,
    // Since when this host uses this location (doctor: "set up N hours ago"), not its latest run.
    connectedAt: same ? before.connectedAt : new Date().toISOString(),
    connectionDigest: digest,
  });
  return o;
}

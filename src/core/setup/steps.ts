import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Docker } from "../docker/docker.ts";
import { MIN_KOPIA } from "../doctor.ts";
import { AppError } from "../errors.ts";
import { installedKopiaVersion } from "../kopia/version.ts";
import type { Runner } from "../process/runner.ts";
import { makeTempDir } from "../process/temp-dirs.ts";
import { atLeast } from "../semver.ts";

const INSTALL_HINT = "install them with kopi-docka's install.sh --with-deps (docker and a pinned kopia)";

/** Step 1: docker answers and kopia is new enough; a line each, or an error saying what to install. */
export async function checkDependencies(d: { runner: Runner; docker: Docker }): Promise<string[]> {
  const docker = await d.docker.version().catch(() => undefined);
  if (!docker?.server)
    throw new AppError(
      "dependency_missing",
      `docker is not reachable: ${docker?.serverError ?? "no docker CLI"}`,
      {
        hint: `start it (systemctl start docker) or ${INSTALL_HINT}`,
      },
    );
  const kopia = await installedKopiaVersion(d.runner).catch(() => undefined);
  if (!kopia || !atLeast(kopia, MIN_KOPIA))
    throw new AppError(
      "dependency_missing",
      kopia ? `kopia ${kopia} is older than ${MIN_KOPIA}` : "kopia is not installed",
      {
        hint: INSTALL_HINT,
      },
    );
  return [`docker engine ${docker.server}`, `kopia ${kopia}`];
}

/**
 * Step 7: the real `backup --dry-run` with the answers so far, from a config in a private temp dir
 * (it holds the password file's path, never the password). Read-only: discovery and the plan.
 */
export async function setupDryRun(runner: Runner, selfArgv: string[], configText: string): Promise<string> {
  const dir = makeTempDir("setup");
  try {
    const config = join(dir, "config.toml");
    writeFileSync(config, configText, { mode: 0o600 });
    const r = await runner.run([...selfArgv, "backup", "--dry-run", "--config", config], {
      check: false,
      env: { NO_COLOR: "1", KOPI_DOCKA_CONFIG: undefined },
      timeoutMs: 300_000,
    });
    if (r.exitCode !== 0)
      return `backup --dry-run failed: ${r.stderr.trim().split("\n").slice(-2).join(" ")}`;
    return r.stdout.trimEnd() || "(nothing to back up yet)";
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

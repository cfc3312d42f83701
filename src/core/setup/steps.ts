import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Docker } from "../docker/docker.ts";
import { AppError } from "../errors.ts";
import { MIN_KOPIA } from "../kopia/binary.ts";
import type { Runner } from "../process/runner.ts";
import { makeTempDir } from "../process/temp-dirs.ts";
import { atLeast } from "../semver.ts";
import { peekKopia, type SetupKopia } from "./kopia.ts";

const DOCKER_HINT =
  "start it (systemctl start docker), or let install.sh --with-deps install and start Docker";
const KOPIA_HINT =
  "install the full build, which carries kopia (install.sh --full), or put kopia ≥ 0.21 on PATH " +
  "(install.sh --kopia-only builds the pinned one)";

/**
 * Step 1: docker answers, and the kopia every later command will run (`kopia.binary`: PATH, else the
 * one inside the full binary) is new enough; a line each, or an error saying what to install.
 */
export async function checkDependencies(d: {
  runner: Runner;
  docker: Docker;
  kopia?: SetupKopia;
}): Promise<string[]> {
  const docker = await d.docker.version().catch(() => undefined);
  if (!docker?.server)
    throw new AppError(
      "dependency_missing",
      `docker is not reachable: ${docker?.serverError ?? "no docker CLI"}`,
      { hint: DOCKER_HINT },
    );
  const kopia = await peekKopia(d.runner, d.kopia);
  const { version } = kopia;
  if (!version || !atLeast(version, MIN_KOPIA))
    throw new AppError(
      "dependency_missing",
      version
        ? `kopia ${version} (${kopia.path ?? kopia.command}) is older than ${MIN_KOPIA}`
        : kopia.source === "configured"
          ? `kopia.binary ${kopia.command} does not run`
          : kopia.embedded
            ? 'kopia is not on PATH, and kopia.binary = "path" rules out the one inside kopi-docka'
            : "kopia is not installed: none on PATH, and this kopi-docka has none inside",
      { hint: KOPIA_HINT },
    );
  return [
    `docker engine ${docker.server}`,
    `kopia ${version} (${kopia.source}: ${kopia.path ?? kopia.command})`,
  ];
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

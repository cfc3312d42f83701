import { describe, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBunRunner, type RunOptions } from "../../src/core/process/runner.ts";

export type { RunOptions };

const TOOLS_CACHE = process.env.KOPI_DOCKA_TOOLS_CACHE ?? "/var/cache/kopi-docka-dev";
/**
 * A DOCKER_CONFIG whose config.json lists the Compose v2 plugin in cliPluginsExtraDirs
 * (scripts/test-env.d/compose-v2.sh): docker finds `docker compose` only where a test asks for it.
 */
export const COMPOSE_V2_DOCKER_CONFIG = join(TOOLS_CACHE, "compose-v2");

/** The locally built image every integration test runs (scripts/test-env.sh builds it from busybox-static). */
export const TEST_IMAGE = "kopi-docka-test/busybox:1";

const runner = createBunRunner();
export const run = (argv: string[], opts?: RunOptions) => runner.run(argv, opts);

function probe(argv: string[], env: Record<string, string> = {}): boolean {
  const r = Bun.spawnSync(argv, { stdout: "ignore", stderr: "ignore", env: { ...process.env, ...env } });
  return r.exitCode === 0;
}

/** What the real-component tests need, checked once per process. */
export const available = {
  docker: probe(["docker", "info"]),
  kopia: probe(["kopia", "--version"]),
  image: probe(["docker", "image", "inspect", TEST_IMAGE]),
  compose: probe(["docker-compose", "version"]),
  composeV2: probe(["docker", "compose", "version"], { DOCKER_CONFIG: COMPOSE_V2_DOCKER_CONFIG }),
};

/**
 * `describe` for tests against the real docker daemon and kopia. Locally they are skipped when the
 * tools are missing; in CI (CI set) a missing tool is a failing test, never a silent skip.
 */
export function describeReal(name: string, needs: (keyof typeof available)[], body: () => void): void {
  const missing = needs.filter((n) => !available[n]);
  if (missing.length === 0) describe(name, body);
  else if (process.env.CI) {
    describe(name, () => {
      test(`${missing.join(", ")} available (run scripts/test-env.sh)`, () => {
        throw new Error(`missing for integration tests: ${missing.join(", ")}`);
      });
    });
  } else describe.skip(`${name} (missing: ${missing.join(", ")})`, body);
}

/** A fresh temp directory; remove it with the returned function. */
export function tempDir(prefix = "kd-test-"): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A short unique name for docker objects, so test files can run side by side. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Writes a config whose every path lies under `dir`, so a test never touches this machine's real
 * /var/lib/kopi-docka, /etc or /run. `extra` is appended verbatim (more TOML tables).
 */
export function writeTestConfig(dir: string, extra = ""): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "config.toml");
  writeFileSync(
    file,
    `[repository]
path = "${dir}/repository"
password_file = "${dir}/repository.password"
hostname = "kd-test-host"

[paths]
state_dir = "${dir}/state"
cache_dir = "${dir}/cache"
lock_file = "${dir}/kopi-docka.lock"
restore_dir = "${dir}/stacks"
${extra}`,
  );
  return file;
}

/** A shell loop that exits at once on SIGTERM, so a cold backup's `docker stop` takes no grace period. */
export const QUICK_STOP = "trap 'exit 0' TERM; while true; do sleep 0.2; done";

/** Where docker keeps `volume`'s data on this host (asked of docker itself, not of kopi-docka). */
export async function volumeMountpoint(volume: string): Promise<string> {
  return (await run(["docker", "volume", "inspect", "-f", "{{.Mountpoint}}", volume])).stdout.trim();
}

/** Starts a detached test container with `volume` at /data, running `cmd` (default: QUICK_STOP). */
export async function startContainer(name: string, volume: string, extra: string[] = [], cmd = QUICK_STOP) {
  await runTestContainer(name, ["-v", `${volume}:/data`, ...extra], cmd);
}

/** Starts a detached test container with `options` (mounts, labels, …), running `cmd`. */
export async function runTestContainer(name: string, options: string[], cmd = QUICK_STOP) {
  await run(["docker", "run", "-d", "--name", name, ...options, TEST_IMAGE, "sh", "-c", cmd]);
}

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { KOPIA_USERNAME, resolvePaths } from "../../src/config/resolve.ts";
import { createDocker } from "../../src/core/docker/docker.ts";
import { createKopia } from "../../src/core/kopia/kopia.ts";
import { readPassword } from "../../src/core/kopia/password.ts";
import { silentLogger } from "../../src/core/log.ts";
import { createBunRunner } from "../../src/core/process/runner.ts";
import { Lifecycle } from "../../src/core/safe-exit.ts";
import { COMPOSES, type Compose, runCompose } from "../helpers/compose.ts";
import { run, TEST_IMAGE } from "../helpers/env.ts";

/**
 * The db service keeps writing a counter and checksums into its volume. On SIGTERM it writes a final
 * marker and a "frozen" flag, and exits; started again with the flag present it writes nothing, so the
 * volume after the backup is exactly the volume at stop time (what the cold snapshot must hold).
 */
const WRITER = `
cd /data
if [ -f frozen ]; then trap 'exit 0' TERM; while true; do sleep 1; done; fi
mkdir -p sub && echo owned > sub/owned.txt && chown 1000:1000 sub/owned.txt && chmod 640 sub/owned.txt
ln -sf state.txt link
i=0
trap 'echo "final $i" > final.txt; sha256sum state.txt final.txt > sums.sha256; touch frozen; exit 0' TERM
while true; do
  i=$((i+1)); echo "$i" > state.txt; echo "$i" >> log.txt; sha256sum state.txt log.txt > sums.sha256
  sleep 0.1
done
`;

const COMPOSE = (image: string) => `version: "2.4"
services:
  db:
    image: ${image}
    command: ["sh", "/writer.sh"]
    environment:
      DB_PASSWORD: "\${DB_PASSWORD}"
    volumes: ["dbdata:/data", "./writer.sh:/writer.sh:ro"]
    networks: [backend]
  app:
    image: ${image}
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"]
    depends_on: [db]
    env_file: [app.env]
    volumes: ["./appdata:/appdata"]
    networks: [backend]
volumes:
  dbdata: {}
networks:
  backend: {}
`;

const V1 = COMPOSES[0] as Compose;

export async function composeUp(dir: string, project: string, secret: string, cmp = V1): Promise<void> {
  mkdirSync(join(dir, "appdata"), { recursive: true });
  writeFileSync(join(dir, "appdata", "hello.txt"), "hello from the bind mount\n");
  writeFileSync(join(dir, "writer.sh"), WRITER);
  writeFileSync(join(dir, "app.env"), "APP_MODE=cold\n");
  writeFileSync(join(dir, "docker-compose.yml"), COMPOSE(TEST_IMAGE));
  await compose(dir, project, ["up", "-d"], { DB_PASSWORD: secret }, cmp);
}

export function compose(
  dir: string,
  project: string,
  args: string[],
  env: Record<string, string> = {},
  cmp = V1,
) {
  return runCompose(cmp, ["-p", project, "-f", join(dir, "docker-compose.yml"), ...args], {
    cwd: dir,
    env: { DB_PASSWORD: "unused", ...env },
  });
}

export async function inspectState(
  name: string,
): Promise<{ Running: boolean; StartedAt: string; FinishedAt: string }> {
  const r = await run(["docker", "inspect", "--format", "{{json .State}}", name]);
  return JSON.parse(r.stdout);
}

/** Core dependencies for a test config (in-process backup), with every spawned argv recorded. */
export function coreDeps(configFile: string, argvSeen: string[][] = []) {
  const { config } = loadConfig(configFile);
  const paths = resolvePaths(config);
  const runner = createBunRunner({ onSpawn: (a) => argvSeen.push([...a]) });
  const kopia = createKopia(runner, {
    configFile: paths.kopiaConfigFile,
    cacheDir: paths.kopiaCacheDir,
    logDir: paths.kopiaLogDir,
    password: () => readPassword(paths.passwordFile),
    hostname: "kd-test-host",
    username: KOPIA_USERNAME,
  });
  return {
    config,
    paths,
    runner,
    kopia,
    docker: createDocker(runner),
    log: silentLogger(),
    lifecycle: new Lifecycle(),
    hostname: "kd-test-host",
    version: "0.0.0-test",
  };
}

/** Bare `kopia snapshot restore` with the test's kopia config and KOPIA_PASSWORD; nothing of ours. */
export async function bareRestore(deps: ReturnType<typeof coreDeps>, id: string, target: string) {
  await run(["kopia", "--config-file", deps.paths.kopiaConfigFile, "snapshot", "restore", id, target], {
    env: { KOPIA_PASSWORD: readPassword(deps.paths.passwordFile), KOPIA_CHECK_FOR_UPDATES: "false" },
    timeoutMs: 300_000,
  });
}

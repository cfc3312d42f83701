/**
 * Backup orchestration overhead: 10 small standalone units (one container, one small volume each),
 * one in-process `runBackup`. Reports wall time, the time spent inside kopia and docker processes,
 * the overhead (wall − kopia), and each unit's cold window. Run as root: `bun bench/backup.ts`.
 */
import { join } from "node:path";
import { loadConfig } from "../src/config/load.ts";
import { KOPIA_USERNAME, resolvePaths } from "../src/config/resolve.ts";
import { runBackup } from "../src/core/backup/run.ts";
import { createDocker } from "../src/core/docker/docker.ts";
import { createKopia } from "../src/core/kopia/kopia.ts";
import { readPassword } from "../src/core/kopia/password.ts";
import { silentLogger } from "../src/core/log.ts";
import { createBunRunner, type Runner } from "../src/core/process/runner.ts";
import { Lifecycle } from "../src/core/safe-exit.ts";
import { run, TEST_IMAGE, tempDir, uniqueName, writeTestConfig } from "../test/helpers/env.ts";

const UNITS = 10;
const spent = { kopia: 0, docker: 0, kopiaCalls: 0, dockerCalls: 0 };
const inner = createBunRunner();
const runner: Runner = {
  async run(argv, o) {
    const t = performance.now();
    try {
      return await inner.run(argv, o);
    } finally {
      const ms = performance.now() - t;
      if (argv[0] === "kopia") {
        spent.kopia += ms;
        spent.kopiaCalls++;
      }
      if (argv[0] === "docker") {
        spent.docker += ms;
        spent.dockerCalls++;
      }
    }
  },
};

const dir = tempDir("kd-bench-");
const names = Array.from({ length: UNITS }, (_, i) => uniqueName(`kdbench${i}`));
try {
  for (const n of names) {
    await run([
      "docker",
      "run",
      "-d",
      "--name",
      n,
      "-v",
      `${n}-v:/data`,
      TEST_IMAGE,
      "sh",
      "-c",
      "for i in 1 2 3 4 5; do echo $i > /data/f$i; done; trap 'exit 0' TERM; while true; do sleep 0.1; done",
    ]);
  }
  const { config } = loadConfig(writeTestConfig(join(dir.path, "kd"), "[backup]\nstop_timeout = 10\n"));
  const paths = resolvePaths(config);
  const kopia = createKopia(runner, {
    configFile: paths.kopiaConfigFile,
    cacheDir: paths.kopiaCacheDir,
    logDir: paths.kopiaLogDir,
    password: () => readPassword(paths.passwordFile),
    hostname: "kd-bench",
    username: KOPIA_USERNAME,
  });
  const deps = {
    config,
    paths,
    runner,
    kopia,
    docker: createDocker(runner),
    log: silentLogger(),
    lifecycle: new Lifecycle(),
    hostname: "kd-bench",
    version: "bench",
  };
  for (const round of ["first (creates the repository)", "second (incremental)"]) {
    Object.assign(spent, { kopia: 0, docker: 0, kopiaCalls: 0, dockerCalls: 0 });
    const t0 = performance.now();
    const record = await runBackup(deps, { units: names });
    const wall = performance.now() - t0;
    const cold = record.units.map((u) => u.coldWindowMs ?? 0);
    console.log(`run ${round}: status ${record.status}, ${record.units.length} units`);
    console.log(
      `  wall ${wall.toFixed(0)} ms; kopia ${spent.kopia.toFixed(0)} ms in ${spent.kopiaCalls} calls; docker ${spent.docker.toFixed(0)} ms in ${spent.dockerCalls} calls`,
    );
    console.log(
      `  orchestration overhead (wall − kopia) ${(wall - spent.kopia).toFixed(0)} ms, ${((wall - spent.kopia) / UNITS).toFixed(0)} ms/unit; of it outside docker too: ${(wall - spent.kopia - spent.docker).toFixed(0)} ms`,
    );
    console.log(
      `  cold window per unit ms: min ${Math.min(...cold)}, median ${cold.sort((a, b) => a - b)[Math.floor(cold.length / 2)]}, max ${Math.max(...cold)}`,
    );
  }
} finally {
  for (const n of names) await run(["docker", "rm", "-f", n], { check: false });
  for (const n of names) await run(["docker", "volume", "rm", "-f", `${n}-v`], { check: false });
  dir.remove();
}

import type { Docker } from "../docker/docker.ts";
import type { Logger } from "../log.ts";
import type { Runner } from "../process/runner.ts";
import type { StartStep } from "./types.ts";

/** Seconds compose gets to pull nothing and start a stack. */
const COMPOSE_UP_TIMEOUT_MS = 600_000;

/**
 * Starts the restored unit: `docker compose` (v2 plugin) or `docker-compose` (v1) `up -d` with the
 * target dir as project directory (relative paths resolve there, as they did when backed up), or the rebuilt `docker run` of each standalone container that does not exist yet.
 * Returns what it started.
 */
export async function startUnit(
  d: { runner: Runner; docker: Docker },
  step: StartStep,
  o: { signal: AbortSignal; log: Logger },
): Promise<string[]> {
  if (step.kind === "compose") {
    const compose = await composeCommand(d.runner);
    const argv = [
      ...compose,
      "-p",
      step.project,
      "--project-directory",
      step.cwd,
      ...step.files.flatMap((f) => ["-f", f]),
      "up",
      "-d",
    ];
    o.log.info(`starting: ${argv.join(" ")}`);
    await d.runner.run(argv, {
      cwd: step.cwd,
      signal: o.signal,
      timeoutMs: COMPOSE_UP_TIMEOUT_MS,
      onStderrLine: (l) => o.log.info(`  ${l}`),
    });
    return [step.project];
  }
  const started: string[] = [];
  for (const c of step.containers) {
    const exists = await d.docker.run(["inspect", "--format", "{{.Id}}", c.name], { check: false });
    if (exists.exitCode === 0) {
      o.log.info(`${c.name} exists; not recreated`);
      continue;
    }
    o.log.info(`starting: ${c.argv.join(" ")}`);
    await d.runner.run(c.argv, { signal: o.signal, timeoutMs: 120_000 });
    started.push(c.name);
  }
  return started;
}

/** `docker compose` when the plugin answers, else `docker-compose`. */
async function composeCommand(runner: Runner): Promise<string[]> {
  const r = await runner.run(["docker", "compose", "version"], { check: false, timeoutMs: 15_000 });
  return r.exitCode === 0 ? ["docker", "compose"] : ["docker-compose"];
}

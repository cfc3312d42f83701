import { type Docker, runCommandLine } from "../docker/docker.ts";
import type { Logger } from "../log.ts";
import type { StartStep } from "./types.ts";

/**
 * Starts the restored unit: `docker compose` (v2 plugin) or `docker-compose` (v1) `up -d` in the
 * target dir, or the rebuilt `docker run` of each standalone container that does not exist yet.
 * Returns what it started.
 */
export async function startRestoredUnit(
  d: { docker: Docker },
  step: StartStep,
  o: { signal: AbortSignal; log: Logger },
): Promise<string[]> {
  if (step.kind === "compose") {
    await d.docker.composeUp({
      ...step,
      signal: o.signal,
      onStart: (argv) => o.log.info(`starting: ${argv.join(" ")}`),
      onLine: (l) => o.log.info(`  ${l}`),
    });
    return [step.project];
  }
  const started: string[] = [];
  for (const c of step.containers) {
    if (await d.docker.exists(c.name)) {
      o.log.info(`${c.name} exists; not recreated`);
      continue;
    }
    o.log.info(`starting: ${runCommandLine({ args: c.argv })}`);
    await d.docker.run({ args: c.argv, signal: o.signal });
    started.push(c.name);
  }
  return started;
}

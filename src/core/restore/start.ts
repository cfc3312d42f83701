import { errorMessage } from "../caught.ts";
import { type Docker, runCommandLine } from "../docker/docker.ts";
import type { Logger } from "../log.ts";
import type { Lifecycle } from "../safe-exit.ts";
import { redactArgv, redactText } from "../snapshot/redact.ts";
import { privateEnvFiles } from "./env-file.ts";
import type { StartStep } from "./types.ts";

/**
 * Starts the restored unit: `docker compose` (v2 plugin) or `docker-compose` (v1) `up -d` with the
 * target dir as project directory (relative paths resolve there, as they did when backed up; only
 * `o.services` when given), or
 * the rebuilt `docker run` of each standalone container that does not exist yet, its env handed
 * over in a private env file. Returns what it started. A standalone container that exists stopped
 * is started by `startExisting`, once its data (a dump too) is restored.
 */
export async function startRestoredUnit(
  d: { docker: Docker; lifecycle: Lifecycle },
  step: StartStep,
  o: { signal: AbortSignal; log: Logger; services?: readonly string[] },
): Promise<string[]> {
  if (step.kind === "compose") {
    await d.docker.composeUp({
      project: step.project,
      files: step.files,
      cwd: step.cwd,
      ...(o.services ? { services: o.services } : {}),
      signal: o.signal,
      onStart: (argv) => o.log.info(`starting: ${redactArgv(argv).join(" ")}`),
      onLine: (l) => o.log.info(`  ${l}`),
    });
    // Only some services (the databases fed first): named, so a restore that ends there does not
    // read as if the whole project was started.
    return o.services ? [`${step.project} (${o.services.join(", ")})`] : [step.project];
  }
  const started: string[] = [];
  const envFiles = privateEnvFiles(d.lifecycle);
  try {
    for (const c of step.containers) {
      if (await d.docker.exists(c.name)) {
        o.log.info(
          `${c.name} exists; not recreated${c.exists === "stopped" ? " (started once its data is restored)" : ""}`,
        );
        continue;
      }
      // Gone since the plan: its argv was not judged (an existing one's refusals are moot).
      if (c.exists) {
        o.log.warn(`${c.name} was removed meanwhile; not recreated`);
        continue;
      }
      const spec = { args: c.argv, ...(c.env.length ? { envFile: envFiles.write(c.env) } : {}) };
      o.log.info(`starting: ${redactText(runCommandLine(spec))}`);
      await d.docker.run({ ...spec, signal: o.signal });
      started.push(c.name);
    }
  } finally {
    await envFiles.remove();
  }
  return started;
}

/**
 * `docker start` of each standalone container the plan found existing and stopped (`exists`), unless
 * it runs by now (started for its dump feed). One that does not start is named in `failed`, and the
 * others go on.
 */
export async function startExisting(
  docker: Docker,
  step: StartStep,
  log: Logger,
): Promise<{ started: string[]; failed: { name: string; reason: string }[] }> {
  const out = { started: [] as string[], failed: [] as { name: string; reason: string }[] };
  if (step.kind !== "run") return out;
  for (const c of step.containers.filter((x) => x.exists === "stopped")) {
    if (await docker.isRunning(c.name)) continue;
    try {
      await docker.start(c.name);
    } catch (e) {
      out.failed.push({ name: c.name, reason: errorMessage(e) });
      continue;
    }
    log.info(`started ${c.name}`);
    out.started.push(c.name);
  }
  return out;
}

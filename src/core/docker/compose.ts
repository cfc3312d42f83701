import type { ComposeChoice } from "../../config/schema.ts";
import type { Runner } from "../process/runner.ts";

/** How long compose gets to pull nothing and start a stack. */
const COMPOSE_UP_TIMEOUT_MS = 600_000;

/** Which compose answered: the v2 plugin (`docker compose`) or v1 (`docker-compose`). */
export interface ComposeVersion {
  command: readonly string[];
  version: string;
}

const V2: readonly string[] = ["docker", "compose"];
const V1: readonly string[] = ["docker-compose"];

/**
 * The composes `docker.compose` allows, in the order they are tried. The plugin is found the way the
 * docker CLI finds it (its plugin dirs, DOCKER_CONFIG's cliPluginsExtraDirs), so tests steer it by env.
 */
export function composeCandidates(choice: ComposeChoice): readonly (readonly string[])[] {
  if (choice === "v2") return [V2];
  if (choice === "v1") return [V1];
  return [V2, V1];
}

export interface ComposeUp {
  project: string;
  files: readonly string[];
  cwd: string;
  /** Only these services (and what they depend on); all when absent. Checked names, never flags. */
  services?: readonly string[];
  signal?: AbortSignal;
  /** Told the argv before it is spawned (for the log). */
  onStart?: (argv: readonly string[]) => void;
  /** compose reports progress on stderr. */
  onLine?: (line: string) => void;
}

/** Compose operations of the client (see docker.ts). compose is its own binary in v1, hence the runner. */
export function composeOps(runner: Runner, choice: ComposeChoice = "auto") {
  const candidates = composeCandidates(choice);
  const ops = {
    /** The first allowed compose that answers `version --short`, or undefined when none does. */
    async composeVersion(): Promise<ComposeVersion | undefined> {
      for (const command of candidates) {
        const r = await runner
          .run([...command, "version", "--short"], { check: false, timeoutMs: 15_000 })
          .catch(() => undefined);
        if (r?.exitCode === 0) return { command, version: r.stdout.trim() };
      }
      return undefined;
    },

    /**
     * `compose -p <project> --project-directory <cwd> -f … up -d` in `cwd`, with the compose that
     * answered; when none did, the last allowed one runs, so its own error says what is missing.
     */
    async composeUp(spec: ComposeUp): Promise<void> {
      const command = (await ops.composeVersion())?.command ?? candidates[candidates.length - 1] ?? V1;
      const argv = composeUpArgv(command, spec);
      spec.onStart?.(argv);
      await runner.run(argv, {
        cwd: spec.cwd,
        signal: spec.signal,
        timeoutMs: COMPOSE_UP_TIMEOUT_MS,
        onStderrLine: spec.onLine,
      });
    },
  };
  return ops;
}

/** `cwd` is the project directory too: relative paths in the files resolve against it. */
export function composeUpArgv(command: readonly string[], spec: ComposeUp): string[] {
  return [
    ...command,
    "-p",
    spec.project,
    "--project-directory",
    spec.cwd,
    ...spec.files.flatMap((f) => ["-f", f]),
    "up",
    "-d",
    ...(spec.services ?? []),
  ];
}

import type { Runner } from "../process/runner.ts";

/** Seconds compose gets to pull nothing and start a stack. */
const COMPOSE_UP_TIMEOUT_MS = 600_000;

/** Which compose answered: the v2 plugin (`docker compose`) or v1 (`docker-compose`). */
export interface ComposeVersion {
  command: readonly string[];
  version: string;
}

export interface ComposeUp {
  project: string;
  files: readonly string[];
  cwd: string;
  signal?: AbortSignal;
  /** Told the argv before it is spawned (for the log). */
  onStart?: (argv: readonly string[]) => void;
  /** compose reports progress on stderr. */
  onLine?: (line: string) => void;
}

const CANDIDATES: readonly (readonly string[])[] = [["docker", "compose"], ["docker-compose"]];

/** Compose operations of the client (see docker.ts). compose is its own binary in v1, hence the runner. */
export function composeOps(runner: Runner) {
  const ops = {
    /** The first compose that answers `version --short`, or undefined when neither is installed. */
    async composeVersion(): Promise<ComposeVersion | undefined> {
      for (const command of CANDIDATES) {
        const r = await runner
          .run([...command, "version", "--short"], { check: false, timeoutMs: 15_000 })
          .catch(() => undefined);
        if (r?.exitCode === 0) return { command, version: r.stdout.trim() };
      }
      return undefined;
    },

    /** `compose -p <project> --project-directory <cwd> -f … up -d` in `cwd`; v1 when the plugin is missing. */
    async composeUp(spec: ComposeUp): Promise<void> {
      const command = (await ops.composeVersion())?.command ?? ["docker-compose"];
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
  ];
}

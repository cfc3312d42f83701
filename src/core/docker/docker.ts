import { randomUUID } from "node:crypto";
import type { ComposeChoice } from "../../config/schema.ts";
import { AppError } from "../errors.ts";
import { shellWord } from "../format.ts";
import { KOPIA_SECRET_ENV } from "../kopia/kopia.ts";
import type { Runner } from "../process/runner.ts";
import { cleanupOps } from "./cleanup.ts";
import { composeOps } from "./compose.ts";
import { containerOps } from "./containers.ts";
import { EXEC_MARKER_ENV, endExec } from "./exec-end.ts";
import { dockerExec, inspectMany } from "./inspect.ts";
import { networkOps } from "./networks.ts";
import { ImageInspectSchema, VersionSchema } from "./schemas.ts";
import { volumeOps } from "./volumes.ts";

export type { ComposeUp, ComposeVersion } from "./compose.ts";
export type { ContainerRow, Readiness, RunSpec, WaitOptions } from "./containers.ts";
export { runCommandLine } from "./containers.ts";
export type { NetworkSpec } from "./networks.ts";
export type * from "./schemas.ts";
export type { VolumeSpec } from "./volumes.ts";

export interface DockerVersion {
  client: string | undefined;
  /** Undefined when no daemon answered. */
  server: string | undefined;
  apiVersion: string | undefined;
  /** Why the daemon did not answer, when it did not. */
  serverError?: string;
}

/**
 * The docker CLI as named operations; the only code in kopi-docka that builds a docker argv. Every
 * operation goes through the one runner (argv only, never a shell string; DOCKER_HOST and the current
 * context are honoured like any docker call). Inspect output is parsed with the schemas in schemas.ts;
 * many-name inspects take one process per 1000 names, so discovery costs a fixed number of processes.
 * Tests of code above this layer fake it with test/fakes/fake-docker.ts.
 */
export type Docker = ReturnType<typeof createDocker>;

export interface DockerOptions {
  compose?: ComposeChoice;
  /**
   * Variables unset for every docker and compose process: the secrets the config names
   * (`secretEnvNames(config)`). Default: kopi-docka's own (`KOPIA_SECRET_ENV`).
   */
  secretEnv?: readonly string[];
}

/**
 * `docker exec`'s arguments (after `docker`): `containerExec` runs them, a restore plan shows them
 * (without `marker`, a new id per run), so what a plan shows is what runs.
 */
function execArgs(
  container: string,
  argv: readonly string[],
  o: { marker?: string; env?: Record<string, string>; stdin: boolean },
): string[] {
  // The command's env is argv for the container, not the docker CLI's own environment.
  const env = Object.entries(o.env ?? {}).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
  return [
    "exec",
    ...(o.marker ? ["-e", `${EXEC_MARKER_ENV}=${o.marker}`] : []),
    ...env,
    ...(o.stdin ? ["-i"] : []),
    container,
    ...argv,
  ];
}

/**
 * The `docker exec` a plan shows (`execArgs` less the marker), as shell words; `container` as given,
 * which may be a placeholder for one found only when it runs (a compose copy's).
 */
export function execCommandLine(
  container: string,
  argv: readonly string[],
  o: { env?: Record<string, string>; stdin: boolean },
): string {
  return [
    "docker",
    ...execArgs(container, argv, o).map((w, i, all) =>
      i === all.length - argv.length - 1 ? w : shellWord(w),
    ),
  ].join(" ");
}

export function createDocker(runner: Runner, opts: DockerOptions = {}) {
  const hidden = withoutEnv(runner, opts.secretEnv ?? KOPIA_SECRET_ENV);
  const exec = dockerExec(hidden);
  const client = {
    ...containerOps(exec),
    ...volumeOps(exec),
    ...networkOps(exec),
    ...composeOps(hidden, opts.compose),
    ...cleanupOps(exec),

    /**
     * `docker exec` of an argv inside a running container (`-i` when a stream is fed to it). Never
     * throws for the command's exit: the caller reads `exitCode` and the stderr. The argv is the
     * container's business; it never reaches a shell on this host.
     */
    async containerExec(
      container: string,
      argv: readonly string[],
      o: {
        stdin?: ReadableStream<Uint8Array>;
        stdoutStream?: (s: ReadableStream<Uint8Array>) => void;
        onStderrLine?: (line: string) => void;
        /** Set in the command's environment inside the container (never secrets: `docker exec -e` argv). */
        env?: Record<string, string>;
        signal?: AbortSignal;
        killGraceMs?: number;
      } = {},
    ) {
      const id = randomUUID();
      const { env, ...options } = o;
      const args = execArgs(container, argv, { marker: id, ...(env ? { env } : {}), stdin: !!o.stdin });
      const r = await exec(args, { ...options, check: false });
      // The CLI ended early leaves the command running in the container: it is ended too.
      if (r.aborted || r.timedOut) await endExec(id);
      return r;
    },

    imageInspect(ids: readonly string[]) {
      return inspectMany(exec, ["image", "inspect"], ids, ImageInspectSchema);
    },

    async version(): Promise<DockerVersion> {
      const r = await exec(["version", "--format", "{{json .}}"], { check: false, timeoutMs: 15_000 });
      let parsed: ReturnType<typeof VersionSchema.parse> = {};
      try {
        parsed = VersionSchema.parse(JSON.parse(r.stdout.trim() || "{}"));
      } catch {
        // Older clients print nothing parseable when the daemon is down; the stderr says why.
      }
      return {
        client: parsed.Client?.Version,
        server: parsed.Server?.Version,
        apiVersion: parsed.Server?.ApiVersion ?? parsed.Client?.ApiVersion,
        serverError: parsed.Server ? undefined : r.stderr.trim() || "the docker daemon did not answer",
      };
    },

    /** Throws a clear error unless a daemon answers. */
    async requireDaemon(): Promise<DockerVersion> {
      const v = await client.version();
      if (!v.server) {
        throw new AppError("dependency_missing", `the docker daemon is not reachable: ${v.serverError}`, {
          hint: "start docker (systemctl start docker) or set DOCKER_HOST",
        });
      }
      return v;
    },
  };
  return client;
}

/**
 * The runner every docker call goes through, with `names` unset in the child whatever a call sets:
 * compose substitutes `${VAR}` in a (restored, untrusted) compose file from its environment, and a
 * bare `NAME` in an env file or `-e NAME` takes the CLI's value, so a secret there would reach a
 * container. PATH, HOME, DOCKER_* and COMPOSE_* stay as they are.
 */
function withoutEnv(runner: Runner, names: readonly string[]): Runner {
  const unset: Record<string, undefined> = Object.fromEntries(names.map((n) => [n, undefined]));
  return { run: (argv, options = {}) => runner.run(argv, { ...options, env: { ...options.env, ...unset } }) };
}

import { z } from "zod";
import { AppError } from "../errors.ts";
import type { Runner, RunOptions } from "../process/runner.ts";

const VersionSchema = z.looseObject({
  Client: z.looseObject({ Version: z.string(), ApiVersion: z.string().optional() }).nullable().optional(),
  Server: z.looseObject({ Version: z.string(), ApiVersion: z.string().optional() }).nullable().optional(),
});

export interface DockerVersion {
  client: string | undefined;
  /** Undefined when no daemon answered. */
  server: string | undefined;
  apiVersion: string | undefined;
  /** Why the daemon did not answer, when it did not. */
  serverError?: string;
}

export type Docker = ReturnType<typeof createDocker>;

/**
 * The docker CLI through the runner. Honours DOCKER_HOST and the current context like any docker call.
 * Discovery, stop/start and inspection build on `run`; argv only, never a shell string.
 */
export function createDocker(runner: Runner) {
  const run = (args: string[], opts?: RunOptions) => runner.run(["docker", ...args], opts);
  return {
    run,

    async version(): Promise<DockerVersion> {
      const r = await run(["version", "--format", "{{json .}}"], { check: false, timeoutMs: 15_000 });
      let parsed: z.infer<typeof VersionSchema> = {};
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
      const v = await this.version();
      if (!v.server) {
        throw new AppError("dependency_missing", `the docker daemon is not reachable: ${v.serverError}`, {
          hint: "start docker (systemctl start docker) or set DOCKER_HOST",
        });
      }
      return v;
    },
  };
}

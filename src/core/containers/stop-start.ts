import { z } from "zod";
import type { Docker } from "../docker/docker.ts";

/** Extra time the docker CLI gets beyond the container's own stop timeout before we give up on it. */
const STOP_CLI_GRACE_MS = 30_000;
/** `docker start` returns once the process is launched; anything longer is a stuck daemon. */
export const START_TIMEOUT_MS = 120_000;
/** How often a restarted container's state is polled. */
const POLL_MS = 250;

const StateSchema = z.looseObject({
  Status: z.string().optional(),
  Running: z.boolean().optional(),
  Restarting: z.boolean().optional(),
  StartedAt: z.string().optional(),
  Health: z.looseObject({ Status: z.string().optional() }).nullable().optional(),
});
export type ContainerState = z.infer<typeof StateSchema>;

/** `docker inspect` of one container's State. */
export async function containerState(docker: Docker, id: string): Promise<ContainerState> {
  const r = await docker.run(["inspect", "--format", "{{json .State}}", id], { timeoutMs: 30_000 });
  return StateSchema.parse(JSON.parse(r.stdout.trim() || "{}"));
}

/** `docker stop -t <seconds> <id>`: SIGTERM, then SIGKILL after the timeout. */
export async function stopContainer(docker: Docker, id: string, timeoutSec: number): Promise<void> {
  await docker.run(["stop", "-t", String(timeoutSec), id], {
    timeoutMs: timeoutSec * 1000 + STOP_CLI_GRACE_MS,
  });
}

/** `docker start <id>`; starting a running container is a no-op, so this is safe to repeat. */
export async function startContainer(docker: Docker, id: string): Promise<void> {
  await docker.run(["start", id], { timeoutMs: START_TIMEOUT_MS });
}

export type Readiness =
  | { ok: true; state: ContainerState }
  | { ok: false; running: boolean; reason: string; state?: ContainerState };

/**
 * Waits until a started container is running and, if it has a healthcheck, healthy; at most
 * `timeoutSec`. Never throws: the answer says what was seen last.
 */
export async function waitReady(
  docker: Docker,
  id: string,
  o: { timeoutSec: number; healthcheck: boolean; sleep?: (ms: number) => Promise<void> },
): Promise<Readiness> {
  const sleep = o.sleep ?? ((ms: number) => Bun.sleep(ms));
  const deadline = Date.now() + o.timeoutSec * 1000;
  let last: ContainerState | undefined;
  for (;;) {
    try {
      last = await containerState(docker, id);
    } catch (e) {
      if (Date.now() >= deadline) return { ok: false, running: false, reason: String(e) };
    }
    const health = last?.Health?.Status;
    if (last?.Running && (!o.healthcheck || !health || health === "healthy"))
      return { ok: true, state: last };
    if (Date.now() >= deadline) {
      const running = Boolean(last?.Running);
      const reason = running
        ? `running but ${health ?? "not healthy"} after ${o.timeoutSec}s`
        : `${last?.Status ?? "not running"} after ${o.timeoutSec}s`;
      return { ok: false, running, reason, ...(last ? { state: last } : {}) };
    }
    await sleep(POLL_MS);
  }
}

import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "../process/temp-dirs.ts";
import { type Exec, inspectMany, parseJson } from "./inspect.ts";
import {
  type ContainerInspect,
  ContainerInspectSchema,
  type ContainerState,
  ContainerStateSchema,
} from "./schemas.ts";

/** Extra time the docker CLI gets beyond the container's own stop timeout before we give up on it. */
const STOP_CLI_GRACE_MS = 30_000;
/** `docker start` returns once the process is launched; anything longer is a stuck daemon. */
export const START_TIMEOUT_MS = 120_000;
/** How often a started container's state is polled. */
const POLL_MS = 250;
const PS_FORMAT = '{{.ID}}\t{{.State}}\t{{.Label "com.docker.compose.project"}}';

/** One line of `docker ps -a`. */
export interface ContainerRow {
  id: string;
  /** running, exited, paused, restarting, created, dead. */
  state: string;
  /** The compose project label; "" when none. */
  project: string;
}

/** A `docker run -d` / `docker create`: everything after the command, and where env values come from. */
export interface RunSpec {
  /** `--name n … image cmd…`: flags, image and command. Never `-e KEY=value` with a secret value. */
  args: readonly string[];
  /** A docker env file (0600): env values travel in it, never in argv. */
  envFile?: string;
  signal?: AbortSignal;
}

export type Readiness =
  | { ok: true; state: ContainerState }
  | { ok: false; running: boolean; reason: string; state?: ContainerState };

export interface WaitOptions {
  timeoutSec: number;
  /** Wait for `healthy` too when the container has a healthcheck. */
  healthcheck: boolean;
  /**
   * Its restart policy's name. Under "no" an exited container stays down: the wait ends as soon as it
   * is seen exited, instead of lasting `timeoutSec` for nothing.
   */
  restartPolicy?: string;
  sleep?: (ms: number) => Promise<void>;
}

/** A container that exited after our start and that nothing will start again: said at once, with its code. */
const exitedNow = (s: ContainerState, policy: string | undefined) =>
  `exited with code ${s.ExitCode ?? "unknown"} right after it was started (restart policy "${policy ?? "no"}": it stays down; \`docker logs\` tells why)`;

/**
 * An exited container docker will not start again: policy `no`, or `on-failure[:N]` after exit 0 (an
 * init job: docker restarts on-failure containers only after a non-zero exit).
 */
export const staysDown = (policy: string | undefined, exitCode: number | undefined) =>
  policy === "no" || (exitCode === 0 && policy?.startsWith("on-failure") === true);

/**
 * Whether its process runs: docker reads Running=true also while a restart policy restarts it
 * (Restarting=true, between two attempts of a crash loop), which is no running app.
 */
export const runsNow = (s: ContainerState) => s.Running && s.Restarting !== true;

/** `docker ps -a` lines → rows. */
export function parsePs(stdout: string): ContainerRow[] {
  return stdout
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => {
      const [id = "", state = "", project = ""] = l.split("\t");
      return { id: id.trim(), state: state.trim(), project: project.trim() };
    })
    .filter((r) => r.id);
}

const runArgv = (cmd: "run" | "create", s: RunSpec, cidFile?: string) => [
  cmd,
  ...(cmd === "run" ? ["-d"] : []),
  ...(s.envFile ? ["--env-file", s.envFile] : []),
  ...(cidFile ? [`--cidfile=${cidFile}`] : []),
  ...s.args,
];

/** A full container id, as docker writes it to a `--cidfile`. */
const CONTAINER_ID = /^[0-9a-f]{64}$/;

/** Container operations of the client (see docker.ts). */
export function containerOps(exec: Exec) {
  /** `docker ps -a` with these `--filter`s, stopped containers too: each one's name and whether it runs. */
  const psFiltered = async (filters: readonly string[]) => {
    const r = await exec(
      [
        "ps",
        "-a",
        "--no-trunc",
        ...filters.flatMap((f) => ["--filter", f]),
        "--format",
        "{{.Names}}\t{{.State}}",
      ],
      { timeoutMs: 60_000 },
    );
    return r.stdout
      .split("\n")
      .map((l) => l.trim().split("\t"))
      .filter(([name]) => name)
      .map(([name = "", state = ""]) => ({ name, running: state === "running" }));
  };
  const ops = {
    /** Every container on the host (`docker ps -a`), one process. */
    async listContainers(): Promise<ContainerRow[]> {
      const r = await exec(["ps", "-a", "--no-trunc", "--format", PS_FORMAT], { timeoutMs: 120_000 });
      return parsePs(r.stdout);
    },

    /**
     * Containers carrying every one of `labels` (`docker ps -a --filter label=k=v`): name and whether
     * it runs. How a compose service's container is found whatever compose named it.
     */
    containersLabelled(labels: Record<string, string>): Promise<{ name: string; running: boolean }[]> {
      return psFiltered(Object.entries(labels).map(([k, v]) => `label=${k}=${v}`));
    },

    /**
     * Names of the containers attached to network `name`, stopped ones too (`docker ps -a --filter
     * network=…`): `network inspect` lists only the running ones, yet a stopped one keeps its endpoint
     * by network ID and cannot start once that network is replaced.
     */
    async containersOnNetwork(name: string): Promise<string[]> {
      return (await psFiltered([`network=${name}`])).map((c) => c.name);
    },

    /** Full inspect of many containers in one process (per 1000); ones that do not exist are absent. */
    inspectContainers(refs: readonly string[]): Promise<ContainerInspect[]> {
      return inspectMany(exec, ["inspect", "--type", "container"], refs, ContainerInspectSchema);
    },

    /** One container's State; throws when it does not exist. */
    async containerState(ref: string): Promise<ContainerState> {
      const r = await exec(["inspect", "--format", "{{json .State}}", ref], { timeoutMs: 30_000 });
      return parseJson(ContainerStateSchema, r.stdout.trim() || "{}", "`docker inspect` of a State");
    },

    /** Whether a container of that name or id exists. */
    async exists(ref: string): Promise<boolean> {
      const r = await exec(["inspect", "--format", "{{.Id}}", ref], { check: false, timeoutMs: 30_000 });
      return r.exitCode === 0;
    },

    /** True only when docker says the container runs; false when it is stopped, gone, or docker fails. */
    async isRunning(ref: string): Promise<boolean> {
      const r = await exec(["inspect", "-f", "{{.State.Running}}", ref], { check: false, timeoutMs: 30_000 });
      return r.exitCode === 0 && r.stdout.trim() === "true";
    },

    /** `docker stop -t <seconds>`: SIGTERM, then SIGKILL after the timeout. */
    async stop(ref: string, timeoutSec: number): Promise<void> {
      await exec(["stop", "-t", String(timeoutSec), ref], {
        timeoutMs: timeoutSec * 1000 + STOP_CLI_GRACE_MS,
      });
    },

    /** `docker start`; starting a running container is a no-op, so this is safe to repeat. */
    async start(ref: string): Promise<void> {
      await exec(["start", ref], { timeoutMs: START_TIMEOUT_MS });
    },

    /**
     * `docker update --restart=<policy>`: `no`, `always`, `unless-stopped`, `on-failure[:N]`. A restore
     * holding a container sets `no`, and puts the old one back when the hold ends.
     */
    async setRestartPolicy(ref: string, policy: string): Promise<void> {
      await exec(["update", `--restart=${policy}`, ref], { timeoutMs: 60_000 });
    },

    /** `docker pause`: freezes a running container's processes (the cgroup freezer). */
    async pause(ref: string): Promise<void> {
      await exec(["pause", ref], { timeoutMs: 60_000 });
    },

    /**
     * Waits until a started container runs (`runsNow`: not while its restart policy restarts it) and,
     * if it has a healthcheck, is healthy; at most `timeoutSec`. Never throws: the answer says what
     * was seen last. A run seen here may still end a second later: `containers/settle.ts` looks again.
     */
    async waitRunning(ref: string, o: WaitOptions): Promise<Readiness> {
      const sleep = o.sleep ?? ((ms: number) => Bun.sleep(ms));
      const deadline = Date.now() + o.timeoutSec * 1000;
      let last: ContainerState | undefined;
      for (;;) {
        try {
          last = await ops.containerState(ref);
        } catch (e) {
          if (Date.now() >= deadline) return { ok: false, running: false, reason: String(e) };
        }
        const health = last?.Health?.Status;
        const running = last !== undefined && runsNow(last);
        if (last && running && (!o.healthcheck || !health || health === "healthy"))
          return { ok: true, state: last };
        if (last && !last.Running && last.Status === "exited" && staysDown(o.restartPolicy, last.ExitCode))
          return { ok: false, running: false, reason: exitedNow(last, o.restartPolicy), state: last };
        if (Date.now() >= deadline) {
          const reason = running
            ? `running but ${health ?? "not healthy"} after ${o.timeoutSec}s`
            : last?.Restarting
              ? `restarting after ${o.timeoutSec}s: it exits (last exit code ${last.ExitCode ?? "unknown"}) and its restart policy starts it again`
              : `${last?.Status ?? "not running"} after ${o.timeoutSec}s`;
          return { ok: false, running, reason, ...(last ? { state: last } : {}) };
        }
        await sleep(POLL_MS);
      }
    },

    /**
     * `docker run -d`: creates and starts a container. One docker created but could not start (a
     * network to join that is gone, a port in use) is left "created": it is removed, so a retry finds
     * the name free and nothing takes it for a stopped container of the unit's. The run's error stands.
     */
    async run(spec: RunSpec): Promise<void> {
      const dir = makeTempDir("run");
      const cidFile = join(dir, "cid");
      try {
        await exec(runArgv("run", spec, cidFile), { signal: spec.signal, timeoutMs: 120_000 });
      } catch (e) {
        await removeCreated(exec, cidFile, spec.args);
        throw e;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },

    /** `docker create`: creates a container without starting it. */
    async create(spec: RunSpec): Promise<void> {
      await exec(runArgv("create", spec), { signal: spec.signal, timeoutMs: 120_000 });
    },
  };
  return ops;
}

/**
 * The container a failed `docker run` created, by the id docker wrote to this run's `--cidfile`
 * (none: it created nothing, a name in use), removed when it still has the run's `--name` and is
 * still "created": never one that runs, or another's. Never throws: the run's own error is the one
 * to report.
 */
async function removeCreated(exec: Exec, cidFile: string, args: readonly string[]): Promise<void> {
  const name = args.includes("--name") ? args[args.indexOf("--name") + 1] : undefined;
  try {
    const id = readFileSync(cidFile, "utf8").trim();
    if (!CONTAINER_ID.test(id) || !name) return;
    const format = "{{.Name}}\t{{.State.Status}}";
    const r = await exec(["inspect", "--type", "container", "--format", format, id], { timeoutMs: 30_000 });
    if (r.stdout.trim() === `/${name}\tcreated`) await exec(["rm", "-v", id], { timeoutMs: 60_000 });
  } catch {
    // No id written, or docker failed again: the container, if any, stays for the person to see.
  }
}

/** The argv `run` spawns (less its private `--cidfile`), for plans and logs. */
export function runCommandLine(spec: RunSpec): string {
  return ["docker", ...runArgv("run", spec)].join(" ");
}

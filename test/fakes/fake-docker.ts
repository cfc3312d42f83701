import type { Docker, RunSpec } from "../../src/core/docker/docker.ts";
import type {
  ContainerInspect,
  ContainerState,
  NetworkInspect,
  VolumeInspect,
} from "../../src/core/docker/schemas.ts";
import { ProcessError } from "../../src/core/errors.ts";
import { killed, openStream, readSome, untilAborted } from "./fake-runner.ts";

/**
 * An in-memory docker host behind the client's named operations, for tests of the code above the
 * client (planners, executors, recovery). Records every operation as a line (`stop id-web`); `before`
 * runs ahead of each one and may throw (a failing docker) or act (a signal mid-call). The client's own
 * argv building and parsing are tested with the FakeRunner instead.
 */
export class FakeDocker implements Docker {
  readonly calls: string[] = [];
  readonly containers = new Map<string, ContainerInspect>();
  readonly volumes = new Map<string, VolumeInspect>();
  readonly networks = new Map<string, NetworkInspect>();
  /** Called with each operation line before it acts; throw to make it fail. */
  before?: (call: string) => void;

  constructor(init: { containers?: ContainerInspect[]; before?: (call: string) => void } = {}) {
    for (const c of init.containers ?? []) this.containers.set(c.Id, c);
    this.before = init.before;
  }

  /** A minimal container as docker would show it. */
  static container(id: string, state: Partial<ContainerState> = {}, name = id): ContainerInspect {
    return {
      Id: id,
      Name: `/${name}`,
      Image: "sha256:1",
      State: { Status: state.Running === false ? "exited" : "running", Running: true, ...state },
      Config: { Image: "busybox" },
    };
  }

  #op(...parts: (string | number)[]): void {
    const line = parts.join(" ");
    this.calls.push(line);
    this.before?.(line);
  }

  #find(ref: string): ContainerInspect | undefined {
    for (const c of this.containers.values()) if (c.Id.startsWith(ref) || c.Name === `/${ref}`) return c;
    return undefined;
  }

  #get(ref: string, op: string): ContainerInspect {
    const c = this.#find(ref);
    if (c) return c;
    throw new ProcessError({
      argv: ["docker", op, ref],
      exitCode: 1,
      signal: null,
      stderrTail: `Error: No such container: ${ref}`,
    });
  }

  async version() {
    return { client: "20.10.24", server: "20.10.24", apiVersion: "1.41" };
  }
  async requireDaemon() {
    return this.version();
  }
  async listContainers() {
    this.#op("ps");
    return [...this.containers.values()].map((c) => ({
      id: c.Id,
      state: c.State.Status,
      project: c.Config.Labels?.["com.docker.compose.project"] ?? "",
    }));
  }
  async inspectContainers(refs: readonly string[]) {
    this.#op("inspect", ...refs);
    return refs.map((r) => this.#find(r)).filter((c): c is ContainerInspect => c !== undefined);
  }
  async containerState(ref: string) {
    this.#op("state", ref);
    return { ...this.#get(ref, "inspect").State };
  }
  async exists(ref: string) {
    this.#op("exists", ref);
    return this.#find(ref) !== undefined;
  }
  async containersLabelled(labels: Record<string, string>) {
    this.#op("ps", ...Object.entries(labels).map(([k, v]) => `${k}=${v}`));
    return [...this.containers.values()]
      .filter((c) => Object.entries(labels).every(([k, v]) => c.Config.Labels?.[k] === v))
      .map((c) => ({ name: c.Name.replace(/^\//, ""), running: c.State.Running }));
  }

  async containersOnNetwork(name: string) {
    this.#op("ps network", name);
    return [...this.containers.values()]
      .filter((c) => Object.hasOwn(c.NetworkSettings?.Networks ?? {}, name))
      .map((c) => c.Name.replace(/^\//, ""));
  }

  async isRunning(ref: string) {
    this.#op("running?", ref);
    return this.#find(ref)?.State.Running === true;
  }
  async stop(ref: string, timeoutSec: number) {
    this.#op("stop", ref, `-t${timeoutSec}`);
    const c = this.#get(ref, "stop");
    c.State = {
      ...c.State,
      Running: false,
      Paused: false,
      Status: "exited",
      FinishedAt: new Date().toISOString(),
    };
  }
  async setRestartPolicy(ref: string, policy: string) {
    this.#op("update --restart", policy, ref);
    const c = this.#get(ref, "update");
    const [name = "", count = "0"] = policy.split(":");
    c.HostConfig = { ...c.HostConfig, RestartPolicy: { Name: name, MaximumRetryCount: Number(count) } };
  }
  async pause(ref: string) {
    this.#op("pause", ref);
    const c = this.#get(ref, "pause");
    c.State = { ...c.State, Paused: true, Status: "paused" };
  }
  async start(ref: string) {
    this.#op("start", ref);
    const c = this.#get(ref, "start");
    if (!c.State.Running)
      c.State = { ...c.State, Running: true, Status: "running", StartedAt: new Date().toISOString() };
  }
  /**
   * Something else than the code under test starts the container (a systemd unit, a restart policy, a
   * person), at `at`: no call is recorded, as none was made through the client.
   */
  startedElsewhere(ref: string, at = new Date()): void {
    const c = this.#get(ref, "start");
    c.State = { ...c.State, Running: true, Status: "running", StartedAt: at.toISOString() };
  }
  async waitRunning(ref: string) {
    this.#op("wait", ref);
    const state = { ...this.#get(ref, "inspect").State };
    return state.Running && !state.Restarting
      ? { ok: true as const, state }
      : { ok: false as const, running: false, reason: `${state.Status} after 0s`, state };
  }
  async run(spec: RunSpec) {
    this.#op("run", ...(spec.envFile ? ["--env-file", spec.envFile] : []), ...spec.args);
    const name = spec.args[spec.args.indexOf("--name") + 1] ?? "unnamed";
    this.containers.set(`id-${name}`, FakeDocker.container(`id-${name}`, {}, name));
  }
  async create(spec: RunSpec) {
    this.#op("create", ...spec.args);
  }
  async volumeInspect(names: readonly string[]) {
    this.#op("volume inspect", ...names);
    return names.flatMap((n) => this.volumes.get(n) ?? []);
  }
  async volumeCreate(spec: { name: string; driver: string; labels: Record<string, string> }) {
    this.#op("volume create", spec.name);
    const mountpoint = `/var/lib/docker/volumes/${spec.name}/_data`;
    this.volumes.set(spec.name, {
      ...spec,
      Name: spec.name,
      Driver: spec.driver,
      Mountpoint: mountpoint,
      Options: {},
      Labels: spec.labels,
    });
  }
  async volumeMountpoint(name: string) {
    this.#op("volume mountpoint", name);
    return this.volumes.get(name)?.Mountpoint ?? "";
  }
  async networkInspect(names: readonly string[]) {
    this.#op("network inspect", ...names);
    return names.flatMap((n) => this.networks.get(n) ?? []);
  }
  async networkCreate(spec: { name: string; driver: string; labels: Record<string, string> }) {
    this.#op("network create", spec.name);
    this.networks.set(spec.name, {
      Name: spec.name,
      Id: `net-${spec.name}`,
      Driver: spec.driver,
      Labels: spec.labels,
    });
  }
  async objectsNamed(prefix: string) {
    this.#op("objects named", prefix);
    const match = (names: Iterable<string>) => [...names].filter((n) => n.startsWith(prefix));
    return {
      containers: match(this.containers.keys()),
      volumes: match(this.volumes.keys()),
      networks: match(this.networks.keys()),
    };
  }
  async containerRemove(names: readonly string[]) {
    this.#op("rm", ...names);
    for (const n of names) this.containers.delete(n);
  }
  async volumeRemove(names: readonly string[]) {
    this.#op("volume rm", ...names);
    for (const n of names) this.volumes.delete(n);
  }
  async networksRemove(names: readonly string[]) {
    this.#op("network rm", ...names);
    for (const n of names) this.networks.delete(n);
  }
  async networkRemove(name: string) {
    this.#op("network rm", name);
    this.networks.delete(name);
  }
  async networkConnect(name: string, container: string) {
    this.#op("network connect", name, container);
  }
  async networkDisconnect(name: string, container: string) {
    this.#op("network disconnect", name, container);
  }
  /**
   * Every image a container names is there, without labels: an image discovery cannot inspect makes it
   * ignore the container's `kopi-docka.*` labels (`discovery/image-trust.ts`).
   */
  async imageInspect(ids: readonly string[]) {
    this.#op("image inspect", ...ids);
    return ids.map((id) => ({ Id: id, RepoDigests: [], Config: { Labels: {} } }));
  }
  async composeVersion() {
    return { command: ["docker", "compose"], version: "2.29.1" };
  }
  async composeUp(spec: { project: string; services?: readonly string[] }) {
    this.#op("compose up", spec.project, ...(spec.services ?? []));
  }
  /** What `containerExec` answers: stdout, stderr, exit code (default: nothing, exit 0). */
  execAnswer?: (
    container: string,
    argv: readonly string[],
    stdin: string | undefined,
  ) => { stdout?: string; stderr?: string; exitCode?: number };
  /** What each `containerExec` read on stdin, in order. */
  readonly execStdin: string[] = [];
  /** A streamed stdin is read only this far, then the exec answers (a client that stopped early). */
  execStdinBytes?: number;
  /**
   * A streamed stdout stays open after the answer's stdout until the exec's signal aborts (a dump
   * still writing when its reader stopped): then answered as a killed `docker exec`.
   */
  execStdoutOpen?: boolean;
  async containerExec(
    container: string,
    argv: readonly string[],
    o: {
      stdin?: ReadableStream<Uint8Array>;
      stdoutStream?: (s: ReadableStream<Uint8Array>) => void;
      onStderrLine?: (line: string) => void;
      env?: Record<string, string>;
      signal?: AbortSignal;
    } = {},
  ) {
    const env = Object.entries(o.env ?? {}).map(([k, v]) => `-e ${k}=${v}`);
    this.#op("exec", ...env, container, ...argv);
    const bytes = this.execStdinBytes;
    // A stream that breaks off (a torn pipe) is answered as the runner answers a child it killed.
    const stdin = o.stdin
      ? await (bytes === undefined ? new Response(o.stdin).text() : readSome(o.stdin, bytes)).catch(
          () => null,
        )
      : undefined;
    if (stdin === null) return killed(["docker", "exec", container, ...argv]);
    if (stdin !== undefined) this.execStdin.push(stdin);
    const a = this.execAnswer?.(container, argv, stdin) ?? {};
    for (const line of (a.stderr ?? "").split("\n").filter(Boolean)) o.onStderrLine?.(line);
    if (o.stdoutStream && this.execStdoutOpen) {
      o.stdoutStream(openStream(a.stdout ?? "", o.signal));
      await untilAborted(o.signal);
      return killed(["docker", "exec", container, ...argv], a.stderr);
    }
    o.stdoutStream?.(new Response(a.stdout ?? "").body ?? new ReadableStream());
    return {
      argv: ["docker", "exec", container, ...argv],
      exitCode: a.exitCode ?? 0,
      signal: null,
      stdout: o.stdoutStream ? "" : (a.stdout ?? ""),
      stderr: a.stderr ?? "",
      durationMs: 0,
      timedOut: false,
      aborted: false,
    };
  }
}

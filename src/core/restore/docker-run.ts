import { recordOr as obj, stringOr as str, stringsIn as strs } from "../guards.ts";
import { DOCKER_NAME } from "../names-rules.ts";
import { hasRedaction } from "../snapshot/redact.ts";
import { type NetworkNames, runNetwork } from "./run-network.ts";
import { imageOverrides } from "./run-overrides.ts";
import { runSettings } from "./run-settings.ts";

/**
 * Rebuilds a `docker run` argv from a container's saved `docker inspect`, for standalone units.
 * Pure. No env value is ever in argv: the saved ones are returned in `env` (the executor hands them
 * to docker in a private 0600 env file), the user's `--env-file` is passed as is. Values redacted at
 * backup time are never passed on: the user's env file supplies them, or the container is refused
 * (`refused` names the variables) rather than started with a placeholder password. A redacted label
 * or command line cannot be supplied that way: such a container is refused, to be started by hand.
 */

/** Set by the image or by docker itself; passing them again would pin stale values. */
const IMAGE_ENV_KEYS = new Set(["PATH", "HOME", "HOSTNAME", "TERM", "container"]);

export interface RunRebuild {
  name: string;
  argv: string[];
  /** `KEY=value` entries for the container, for an env file: never argv, never logged. */
  env: string[];
  warnings: string[];
  /** Set when the container must not be started from this argv. */
  refused?: string;
  /** The container whose network it shares (`--network container:NAME`): it must run first. */
  joins?: string;
}

export interface RunRebuildOptions extends NetworkNames {
  /** Container name to use (differs with `--as`). */
  name?: string;
  /** Backed-up volume name → name on this host. */
  volumeName?: (name: string) => string;
  /** Backed-up bind source → path on this host. */
  bindPath?: (source: string) => string;
  /** A docker env file and the keys it defines: those keys come from it, not from the inspect. */
  envFile?: { path: string; keys: readonly string[] };
  /**
   * The `Config` of the image it runs, as this host has it: a setting the image gives (healthcheck,
   * stop signal, exposed ports) is not passed again. Unset (not inspectable): every one is passed.
   */
  image?: Record<string, unknown>;
  /** Labels of kopi-docka's own (a copy's `kopi-docka.copy-of`): they replace the inspect's of that key. */
  labels?: Record<string, string>;
}

type Obj = Record<string, unknown>;

export function rebuildDockerRun(inspect: Obj, o: RunRebuildOptions = {}): RunRebuild {
  const config = obj(inspect.Config);
  const host = obj(inspect.HostConfig);
  const name = o.name ?? str(inspect.Name).replace(/^\//, "");
  const argv = ["--name", name];
  const warnings: string[] = [];
  const redacted: string[] = [];
  const env: string[] = [];
  const unpassable: string[] = [];

  const restart = obj(host.RestartPolicy);
  const policy = str(restart.Name);
  if (policy && policy !== "no") {
    const retries = Number(restart.MaximumRetryCount ?? 0);
    argv.push("--restart", policy === "on-failure" && retries > 0 ? `${policy}:${retries}` : policy);
  }
  const fromFile = new Set(o.envFile?.keys ?? []);
  if (o.envFile) argv.push("--env-file", o.envFile.path);
  for (const e of strs(config.Env)) {
    const key = e.split("=")[0] ?? "";
    if (IMAGE_ENV_KEYS.has(key) || fromFile.has(key)) continue;
    if (hasRedaction(e)) redacted.push(key);
    // An env file holds one line per variable: a line break in a value cannot go through it.
    else if (/[\r\n]/.test(e)) unpassable.push(`the value of ${key} has a line break`);
    else env.push(e);
  }
  // The inspect is read back from a snapshot: a volume "name" that is a path would mount that host
  // path, a ':' would add fields to `-v`.
  for (const m of Array.isArray(inspect.Mounts) ? inspect.Mounts.map(obj) : []) {
    const ro = m.RW === false ? ":ro" : "";
    const dest = str(m.Destination);
    if (m.Type !== "volume" && m.Type !== "bind" && m.Type !== "tmpfs") continue;
    if (!dest.startsWith("/") || dest.includes(":")) {
      unpassable.push(`mount destination ${JSON.stringify(dest)} cannot be passed to docker run`);
      continue;
    }
    if (m.Type === "tmpfs") argv.push("--tmpfs", dest);
    else if (m.Type === "volume" && !DOCKER_NAME.test(str(m.Name)))
      unpassable.push(`${JSON.stringify(str(m.Name))} is no volume name`);
    else {
      const src = m.Type === "volume" ? (o.volumeName ?? id)(str(m.Name)) : (o.bindPath ?? id)(str(m.Source));
      if (src.includes(":"))
        unpassable.push(`mount source ${JSON.stringify(src)} cannot be passed to docker run`);
      else argv.push("-v", `${src}:${dest}${ro}`);
    }
  }
  for (const [port, bindings] of Object.entries(obj(host.PortBindings))) {
    for (const b of Array.isArray(bindings) ? bindings.map(obj) : []) {
      const ip = str(b.HostIp);
      const hostPort = str(b.HostPort);
      argv.push("-p", `${ip ? `${ip}:` : ""}${hostPort}:${port.replace(/\/tcp$/, "")}`);
    }
  }
  const net = runNetwork(inspect, name, o);
  argv.push(...net.argv);
  if (net.unpassable) unpassable.push(net.unpassable);
  const settings = runSettings(inspect, net);
  const overrides = imageOverrides(config, host, o.image);
  argv.push(...settings.argv, ...overrides.argv);
  const notCarried = [...settings.notCarried, ...overrides.notCarried];
  if (notCarried.length)
    warnings.push(`${name}: not carried over, set by hand if needed: ${notCarried.join(", ")}`);
  warnings.push(...net.warnings);
  for (const [k, v] of Object.entries(obj(config.Labels))) {
    if (o.labels && k in o.labels) continue;
    if (hasRedaction(str(v))) unpassable.push(`label ${k} was redacted in the backup`);
    else if (!k.startsWith("com.docker.compose.")) argv.push("--label", `${k}=${str(v)}`);
  }
  for (const [k, v] of Object.entries(o.labels ?? {})) argv.push("--label", `${k}=${v}`);
  if (str(config.User)) argv.push("--user", str(config.User));
  if (str(config.WorkingDir)) argv.push("--workdir", str(config.WorkingDir));
  // As it was backed up; the plan says so, since the inspect comes from the snapshot.
  if (host.Privileged === true) {
    argv.push("--privileged");
    warnings.push(`${name}: runs privileged, as recorded in the backup`);
  }
  const caps = strs(host.CapAdd);
  for (const c of caps) argv.push("--cap-add", c);
  if (caps.length) warnings.push(`${name}: gets capabilities ${caps.join(", ")}, as recorded in the backup`);
  for (const c of strs(host.CapDrop)) argv.push("--cap-drop", c);
  const entrypoint = strs(config.Entrypoint);
  if (entrypoint[0] !== undefined) argv.push("--entrypoint", entrypoint[0]);
  // An image that starts like a flag would be read as one, and the next argument as the image.
  if (!/^[A-Za-z0-9]/.test(str(config.Image)))
    unpassable.push(`image ${JSON.stringify(str(config.Image))} is no image reference`);
  argv.push(str(config.Image), ...entrypoint.slice(1), ...strs(config.Cmd));
  if ([...entrypoint, ...strs(config.Cmd)].some(hasRedaction))
    unpassable.push("its command line held a secret that was redacted in the backup");

  const byHand = net.unpassable
    ? "restore without --start and start it by hand with --network container:NAME"
    : "start it by hand";
  const refused = unpassable.length
    ? `${name}: ${unpassable.join("; ")}; ${byHand}`
    : redacted.length
      ? `${name}: ${redacted.join(", ")} ${redacted.length === 1 ? "was" : "were"} redacted in the backup; ` +
        `pass --env-file FILE with ${redacted.map((k) => `${k}=<value>`).join(", ")} lines, or start it by hand`
      : undefined;
  return {
    name,
    argv,
    env,
    warnings,
    ...(refused ? { refused } : {}),
    ...(net.joins ? { joins: net.joins } : {}),
  };
}

const id = (s: string) => s;

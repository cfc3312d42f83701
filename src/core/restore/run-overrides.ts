import { isRecord, recordOr as obj, stringOr as str, stringsIn as strs } from "../guards.ts";
import { hasRedaction } from "../snapshot/redact.ts";

/**
 * The settings a container may take from its image or set itself, for a rebuilt `docker run`
 * (`docker-run.ts`): its healthcheck, stop signal, stop timeout and exposed ports. Docker merges the
 * image's into the inspect, so only those that differ from the image's own (`image`: its `Config` on
 * this host; unknown, all are carried) are passed. Each value is checked, since the inspect is read
 * back from a snapshot; a healthcheck's command runs inside the container, as its command does.
 * Flags as `--flag=value`, so a value can never read as another flag. Pure.
 */

type Obj = Record<string, unknown>;
const whole = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

const SIGNAL = /^(?:(?:SIG)?[A-Z0-9+-]{1,16}|\d{1,2})$/;
const PORT = /^(\d{1,5})\/(tcp|udp|sctp)$/;
/** Docker refuses a healthcheck interval, timeout or start period under 1ms. */
const MIN_DURATION_NS = 1_000_000;

/** Inspect key (nanoseconds) → flag. */
const DURATIONS: [string, string][] = [
  ["Interval", "--health-interval"],
  ["Timeout", "--health-timeout"],
  ["StartPeriod", "--health-start-period"],
];

export function imageOverrides(
  config: Obj,
  host: Obj,
  image: Obj | undefined,
): { argv: string[]; notCarried: string[] } {
  const own = image ?? {};
  const argv: string[] = [];
  const notCarried: string[] = [];
  const health = healthcheck(config.Healthcheck, own.Healthcheck);
  argv.push(...health.argv);
  notCarried.push(...health.notCarried);
  const signal = config.StopSignal;
  if (signal !== undefined && signal !== null && signal !== "" && !same(signal, own.StopSignal)) {
    if (SIGNAL.test(str(signal))) argv.push(`--stop-signal=${str(signal)}`);
    else notCarried.push(`stop signal ${JSON.stringify(str(signal))}`);
  }
  const timeout = config.StopTimeout;
  if (timeout !== undefined && timeout !== null && !same(timeout, own.StopTimeout)) {
    if (whole(timeout) && timeout >= -1) argv.push(`--stop-timeout=${timeout}`);
    else notCarried.push("stop timeout");
  }
  // A published port is exposed by its `-p` already.
  const published = obj(host.PortBindings);
  const imagePorts = obj(own.ExposedPorts);
  for (const port of Object.keys(obj(config.ExposedPorts))) {
    if (port in imagePorts || port in published) continue;
    const m = PORT.exec(port);
    if (m && Number(m[1]) >= 1 && Number(m[1]) <= 65535) argv.push(`--expose=${port}`);
    else notCarried.push(`exposed port ${JSON.stringify(port)}`);
  }
  return { argv, notCarried };
}

/**
 * `docker run` gives a healthcheck as a shell command (`CMD-SHELL`) only, or disables it (`NONE`); a
 * test that is the image's is kept by passing nothing, and each timing that differs goes alone.
 */
function healthcheck(mine: unknown, image: unknown): { argv: string[]; notCarried: string[] } {
  if (!isRecord(mine) || same(mine, image)) return { argv: [], notCarried: [] };
  const own = obj(image);
  const test = strs(mine.Test);
  if (test[0] === "NONE") return { argv: ["--no-healthcheck"], notCarried: [] };
  const argv: string[] = [];
  if (test.length && !same(test, own.Test)) {
    const [form, ...rest] = test;
    const cmd = rest[0] ?? "";
    if (form === "CMD" && rest.length)
      return {
        argv: [],
        notCarried: [
          `healthcheck ${JSON.stringify(rest)} (exec form; docker run gives a shell command only)`,
        ],
      };
    if (form !== "CMD-SHELL" || rest.length !== 1 || !cmd.trim() || cmd.includes("\0"))
      return { argv: [], notCarried: ["healthcheck"] };
    if (hasRedaction(cmd))
      return { argv: [], notCarried: ["healthcheck (its command was redacted in the backup)"] };
    argv.push(`--health-cmd=${cmd}`);
  }
  const notCarried: string[] = [];
  for (const [key, flag] of DURATIONS) {
    const v = mine[key];
    if (v === 0 || v === undefined || v === null || same(v, own[key])) continue;
    if (whole(v) && v >= MIN_DURATION_NS) argv.push(`${flag}=${duration(v)}`);
    else notCarried.push(`health ${key.toLowerCase()}`);
  }
  const retries = mine.Retries;
  if (retries !== 0 && retries !== undefined && retries !== null && !same(retries, own.Retries)) {
    if (whole(retries) && retries > 0) argv.push(`--health-retries=${retries}`);
    else notCarried.push("health retries");
  }
  // Docker 20.10's CLI has no flag for it.
  if (whole(mine.StartInterval) && mine.StartInterval !== 0 && !same(mine.StartInterval, own.StartInterval))
    notCarried.push("health start interval");
  return { argv, notCarried };
}

/** Nanoseconds as a Go duration docker parses: whole seconds, else milliseconds, else microseconds. */
function duration(ns: number): string {
  if (ns % 1_000_000_000 === 0) return `${ns / 1_000_000_000}s`;
  if (ns % 1_000_000 === 0) return `${ns / 1_000_000}ms`;
  return ns % 1000 === 0 ? `${ns / 1000}us` : `${ns}ns`;
}

import { redactMembers, redactToolArg, redactToolText } from "./redact-tools.ts";
import { isPlainValue, isSecretKey } from "./secret-key.ts";

/**
 * The one redactor. Recipes, `list --json`, logged commands and errors all pass through it, so what
 * counts as a secret is decided here alone: values under a secret name (`isSecretKey`), and values
 * that carry a secret whatever their name (URL credentials, `password=` in option strings,
 * `--requirepass x`). The secret is replaced, the rest kept: `postgres://u:***REDACTED***@h/db`.
 */
export const REDACTED = "***REDACTED***";

/** True when redaction replaced something in `s` (restore must not pass such a value on). */
export const hasRedaction = (s: string): boolean => s.includes(REDACTED);

const mask = (v: string) => (v === "" || v === REDACTED ? v : REDACTED);
const secretValue = (name: string, value: string) => isSecretKey(name) && !isPlainValue(value);

/** `scheme://user:pw@` (the password) and `scheme://token@` (the whole user part). */
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@]+)@/gi;
/**
 * `scheme://user:pw@host` whose unencoded password holds `/ ? # @` (a generated base64 one): up to
 * the last `@` of the word that a host follows.
 */
const URL_LOOSE_PASSWORD =
  /([a-z][a-z0-9+.-]*:\/\/)([^\s:/?#@]+):(\S*)@([A-Za-z0-9.\-[\]]+(?::\d+)?)(?=[/?#,;\s"']|$)/gi;
/** `key=value` in option, query and connection strings (`o=addr=h,password=x`, `;AccountKey=k;`). */
const PAIR = /(^|[\s;,&?])([A-Za-z][\w.-]*)=([^\s;,&]*)/g;
/** `--flag value` and `--flag=value` inside one string (a shell command line). */
const FLAG = /(^|\s)(--?[A-Za-z][\w.-]*)(=|\s+)([^\s-]\S*)/g;
/** A lone flag in an argv list, whose value is the next element. */
const BARE_FLAG = /^--?[A-Za-z][\w.-]*$/;
/** `NAME=value` or `--name=value` as one argv element. */
const ASSIGNMENT = /^(-{0,2}[A-Za-z_][\w.-]*)=([\s\S]*)$/;

/**
 * Secrets inside free text: URL credentials, secret `key=value` pairs, secret `--flag value`s, and
 * what `redact-tools.ts` knows (tool flags, secret headers, JSON members).
 */
export function redactText(s: string): string {
  return redactToolText(redactMembers(s))
    .replace(
      URL_LOOSE_PASSWORD,
      (_m, scheme: string, user: string, pw: string, host: string) => `${scheme}${user}:${mask(pw)}@${host}`,
    )
    .replace(URL_USERINFO, (_m, scheme: string, info: string) => {
      const i = info.indexOf(":");
      return `${scheme}${i < 0 ? mask(info) : `${info.slice(0, i)}:${mask(info.slice(i + 1))}`}@`;
    })
    .replace(PAIR, (m, pre: string, k: string, v: string) =>
      secretValue(k, v) ? `${pre}${k}=${mask(v)}` : m,
    )
    .replace(FLAG, (m, pre: string, flag: string, sep: string, v: string) =>
      secretValue(flag, v) ? `${pre}${flag}${sep}${mask(v)}` : m,
    );
}

/** An argv list (a command, `Cmd`, `Healthcheck.Test`) with secret values replaced, ready to log. */
export function redactArgv(argv: readonly string[]): string[] {
  return argv.map((a, i) => {
    const prev = argv[i - 1] ?? "";
    if (BARE_FLAG.test(prev) && !a.startsWith("-") && secretValue(prev, a)) return mask(a);
    const tool = redactToolArg(argv, i);
    if (tool !== a) return tool;
    const kv = ASSIGNMENT.exec(a);
    if (kv?.[1] !== undefined && kv[2] !== undefined && secretValue(kv[1], kv[2]))
      return `${kv[1]}=${mask(kv[2])}`;
    return redactText(a);
  });
}

/** One `KEY=value` env entry; `all` replaces every value (the key still says what is configured). */
export function redactEnvEntry(entry: string, all = false): string {
  const i = entry.indexOf("=");
  if (i < 0) return entry;
  const [key, value] = [entry.slice(0, i), entry.slice(i + 1)];
  if (all || secretValue(key, value)) return `${key}=${mask(value)}`;
  return `${key}=${redactText(value)}`;
}

export interface RedactOptions {
  /** "all": every env value goes (what `list --json` prints); default: only secret ones. */
  env?: "secrets" | "all";
}

/** Inspect keys whose string lists are command lines. */
const ARGV_KEYS = new Set(["Cmd", "Entrypoint", "Args", "Test"]);

/**
 * A deep copy of any JSON value with its secrets replaced: `Env` lists by key and value, command
 * lines (`Cmd`, `Entrypoint`, `Args`, `Healthcheck.Test`) flag by flag, every object's string values
 * by key (labels, `LogConfig.Config`, volume driver options) and every other string by pattern.
 */
export function redactDeep<T>(value: T, o: RedactOptions = {}): T {
  // The copy has the input's shape (a string stays a string, a key stays a key): only values change.
  return redactValue(value, o, "") as T;
}

function redactValue(value: unknown, o: RedactOptions, key: string): unknown {
  if (typeof value === "string") return redactText(value);
  if (Array.isArray(value)) {
    const strings = value.every((x) => typeof x === "string");
    if (strings && key === "Env") return value.map((e: string) => redactEnvEntry(e, o.env === "all"));
    if (strings && ARGV_KEYS.has(key)) return redactArgv(value);
    return value.map((x) => redactValue(x, o, ""));
  }
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = typeof v === "string" && secretValue(k, v) ? mask(v) : redactValue(v, o, k);
    }
    return out;
  }
  return value;
}

/** A `docker inspect` object as kopi-docka writes or prints it; the input is left alone. */
export function redactInspect(
  inspect: Record<string, unknown>,
  o: RedactOptions = {},
): Record<string, unknown> {
  return redactDeep(inspect, o);
}

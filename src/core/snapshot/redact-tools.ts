import { isPlainValue, isSecretKey } from "./secret-key.ts";

/**
 * Secrets a name does not announce: a tool's own short flags (`curl -u user:pw`, `redis-cli -a pw`,
 * `mysqladmin -ppw`), HTTP headers (`Authorization: Bearer t`) and JSON members (`"password": "x"`)
 * inside a command line or a value. Part of the one redactor (`redact.ts`); imports nothing else.
 */

const REDACTED = "***REDACTED***";

interface ToolFlags {
  /** The program's file name. */
  tool: RegExp;
  /** Flags whose value is the next word (or follows `=`). */
  next: readonly string[];
  /** Short flags whose value is written onto them (`-ps3cret`). */
  attached: readonly string[];
  /** The value is `user:password`: only the password goes. */
  userPass?: boolean;
}

const TOOLS: readonly ToolFlags[] = [
  { tool: /^curl$/, next: ["-u", "--user", "-U", "--proxy-user"], attached: ["-u", "-U"], userPass: true },
  { tool: /^redis-cli$/, next: ["-a"], attached: [] },
  // `-p VALUE` apart is mysql's prompt and VALUE a database name: only `-pVALUE` is a password.
  {
    tool: /^(mysql|mysqladmin|mysqldump|mysqlcheck|mariadb|mariadb-admin|mariadb-dump|mariadb-check)$/,
    next: [],
    attached: ["-p"],
  },
  { tool: /^(mongo|mongosh|mongodump|mongorestore|mongoexport|mongoimport)$/, next: ["-p"], attached: [] },
  { tool: /^sshpass$/, next: ["-p"], attached: ["-p"] },
];

/** `$VAR` or `${VAR}`: where a secret comes from at run time, not the secret. */
const isReference = (v: string) => /^\$(\{[A-Za-z_]\w*\}|[A-Za-z_]\w*)$/.test(v);
const hides = (v: string) => v !== "" && v !== REDACTED && !isPlainValue(v) && !isReference(v);

/** The secret part of a tool flag's value, masked. */
function maskValue(t: ToolFlags, v: string): string {
  if (!t.userPass) return hides(v) ? REDACTED : v;
  const i = v.indexOf(":");
  return i >= 0 && hides(v.slice(i + 1)) ? `${v.slice(0, i)}:${REDACTED}` : v;
}

const baseName = (word: string) =>
  word
    .replace(/^["'(]+/, "")
    .split("/")
    .pop() ?? "";

/** The tools an argv list or a command line runs (by a word's file name). */
function toolsIn(words: readonly string[]): ToolFlags[] {
  const names = new Set(words.map(baseName));
  return TOOLS.filter((t) => [...names].some((n) => t.tool.test(n)));
}

/** One argv element, masked when a tool of the list reads a password from it. */
export function redactToolArg(argv: readonly string[], i: number): string {
  const a = argv[i] ?? "";
  const prev = argv[i - 1] ?? "";
  for (const t of toolsIn(argv)) {
    if (t.next.includes(prev) && !a.startsWith("-")) return maskValue(t, a);
    for (const f of t.next)
      if (f.startsWith("--") && a.startsWith(`${f}=`)) return `${f}=${maskValue(t, a.slice(f.length + 1))}`;
    for (const f of t.attached)
      if (a.startsWith(f) && a.length > f.length && !a.startsWith(`${f}=`))
        return f + maskValue(t, a.slice(f.length));
  }
  return a;
}

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");

/** A command line's tool flags masked: `curl -u a:b` → `curl -u a:***`. */
export function redactToolText(s: string): string {
  const tools = toolsIn(s.split(/[\s;&|]+/));
  let out = s;
  for (const t of tools) {
    for (const f of t.next)
      out = out.replace(
        new RegExp(`(^|\\s)(${literal(f)})(\\s+|=)(["']?)([^\\s"']+)`, "g"),
        (m, pre: string, flag: string, sep: string, q: string, v: string) =>
          v.startsWith("-") ? m : `${pre}${flag}${sep}${q}${maskValue(t, v)}`,
      );
    for (const f of t.attached)
      out = out.replace(
        new RegExp(`(^|\\s)(${literal(f)})([^\\s"'=-][^\\s"']*)`, "g"),
        (_m, pre: string, flag: string, v: string) => `${pre}${flag}${maskValue(t, v)}`,
      );
  }
  return out;
}

/** `Authorization: Bearer t`, `X-Api-Key: k`: a header (or `name: value`) named like a secret. */
// A space after the colon, as headers and YAML write it: `image:tag` and `host:port` have none.
const HEADER = /(^|[\s"'])([A-Za-z][\w-]*)(:[ \t]+)((?:Bearer|Basic|Token|Bot|Digest)[ \t]+)?([^\s"']+)/g;
/** `"password": "x"` in a JSON (or Python-ish) text held in a value. */
const JSON_MEMBER = /(["'])([A-Za-z_][\w.-]*)\1(\s*:\s*)(["'])((?:\\.|(?!\4)[^\\])*)\4/g;

/**
 * A bare `Name: value` is also prose ("Password: manager for teams" in an image's description label,
 * which restore would then refuse to pass on): without an auth scheme, only a value that looks
 * generated (a digit, mixed case or a symbol, 6 characters or more) counts.
 */
const credentialLike = (v: string) =>
  v.length >= 6 && (/[\d_+/=.-]/.test(v) || (/[a-z]/.test(v) && /[A-Z]/.test(v)));

/** Secret headers and JSON members inside a text. */
export function redactMembers(s: string): string {
  return s
    .replace(JSON_MEMBER, (m, q: string, k: string, colon: string, vq: string, v: string) =>
      isSecretKey(k) && hides(v) ? `${q}${k}${q}${colon}${vq}${REDACTED}${vq}` : m,
    )
    .replace(HEADER, (m, pre: string, k: string, colon: string, scheme: string | undefined, v: string) =>
      isSecretKey(k) && hides(v) && (scheme !== undefined || credentialLike(v))
        ? `${pre}${k}${colon}${scheme ?? ""}${REDACTED}`
        : m,
    );
}

import { regexLiteral } from "../format.ts";
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
  /** Its options come before the command it runs (sshpass): a flag after that is the command's. */
  optionsOnly?: boolean;
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
  { tool: /^sshpass$/, next: ["-p"], attached: ["-p"], optionsOnly: true },
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

const toolOf = (word: string) => TOOLS.find((t) => t.tool.test(baseName(word)));
const SEPARATOR = /^(;|&&|\|\||\||&)$/;

/**
 * One argv element, masked when the tool it is an argument of reads a password from it: the nearest
 * tool word before it, with no command separator in between (`docker exec -u 1000:1000 app curl` is
 * docker's `-u`, not curl's). sshpass takes its options before the command it runs only.
 */
export function redactToolArg(argv: readonly string[], i: number): string {
  const a = argv[i] ?? "";
  let j = i - 1;
  while (j >= 0 && !SEPARATOR.test(argv[j] ?? "") && !toolOf(argv[j] ?? "")) j--;
  const t = j >= 0 ? toolOf(argv[j] ?? "") : undefined;
  if (!t) return a;
  if (
    t.optionsOnly &&
    argv.slice(j + 1, i - 1).some((w, k, ws) => !w.startsWith("-") && !ws[k - 1]?.startsWith("-"))
  )
    return a;
  const prev = argv[i - 1] ?? "";
  if (i - 1 > j && t.next.includes(prev) && !a.startsWith("-")) return maskValue(t, a);
  for (const f of t.next)
    if (f.startsWith("--") && a.startsWith(`${f}=`)) return `${f}=${maskValue(t, a.slice(f.length + 1))}`;
  for (const f of t.attached)
    if (a.startsWith(f) && a.length > f.length && !a.startsWith(`${f}=`))
      return f + maskValue(t, a.slice(f.length));
  return a;
}

/**
 * A command line's tool flags masked: `curl -u a:b` → `curl -u a:***`. Per command (split at `;`, `|`,
 * `&`), only in what follows that command's tool word.
 */
export function redactToolText(s: string): string {
  return s
    .split(/(;|&&|\|\||\||&)/)
    .map((segment) => {
      const m = /(^|[\s"'(])([^\s"'(;&|]+)(?=[\s"')]|$)/g;
      for (let w = m.exec(segment); w; w = m.exec(segment)) {
        const t = toolOf(w[2] ?? "");
        if (!t) continue;
        const at = w.index + w[0].length;
        return segment.slice(0, at) + toolArgs(t, segment.slice(at));
      }
      return segment;
    })
    .join("");
}

/** The arguments after a tool word, its password flags masked (sshpass: its options only). */
function toolArgs(t: ToolFlags, args: string): string {
  const end = t.optionsOnly ? optionsEnd(args) : args.length;
  let out = args.slice(0, end);
  for (const f of t.next)
    out = out.replace(
      new RegExp(`(^|\\s)(${regexLiteral(f)})(\\s+|=)(["']?)([^\\s"']+)`, "g"),
      (m, pre: string, flag: string, sep: string, q: string, v: string) =>
        v.startsWith("-") ? m : `${pre}${flag}${sep}${q}${maskValue(t, v)}`,
    );
  for (const f of t.attached)
    out = out.replace(
      new RegExp(`(^|\\s)(${regexLiteral(f)})([^\\s"'=-][^\\s"']*)`, "g"),
      (_m, pre: string, flag: string, v: string) => `${pre}${flag}${maskValue(t, v)}`,
    );
  return out + args.slice(end);
}

/** Where a tool's leading options end: the first word that is neither an option nor an option's value. */
function optionsEnd(args: string): number {
  const words = /\S+/g;
  let prevFlag = false;
  for (let w = words.exec(args); w; w = words.exec(args)) {
    const isFlag = w[0].startsWith("-");
    if (!isFlag && !prevFlag) return w.index;
    prevFlag = isFlag && w[0].length === 2;
  }
  return args.length;
}

/** `Authorization: Bearer t`, `X-Api-Key: k`: a header (or `name: value`) named like a secret. */
// A space after the colon, as headers and YAML write it: `image:tag` and `host:port` have none.
const HEADER = /(^|[\s"'])([A-Za-z][\w-]*)(:[ \t]+)((?:Bearer|Basic|Token|Bot|Digest)[ \t]+)?([^\s"']+)/gi;
/** `Authorization:Bearer t`: the auth headers themselves, also written without the space. */
const AUTH_HEADER =
  /(^|[\s"'])((?:Proxy-)?Authorization)(:[ \t]*)((?:Bearer|Basic|Token|Bot|Digest)[ \t]+)?([^\s"']+)/gi;
/** `"password": "x"` in a JSON (or Python-ish) text held in a value. */
const JSON_MEMBER = /(["'])([A-Za-z_][\w.-]*)\1(\s*:\s*)(["'])((?:\\.|(?!\4)[^\\])*)\4/g;

/**
 * A bare `Name: value` is also prose or a path ("Password: manager for teams" in a description label,
 * `secret: /run/secrets/db`), which restore would then refuse to pass on: without an auth scheme, only
 * a value that looks generated (8 characters or more, a digit among them, not a path) counts.
 */
const credentialLike = (v: string) => v.length >= 8 && /\d/.test(v) && !v.startsWith("/");

/** Secret headers and JSON members inside a text. */
export function redactMembers(s: string): string {
  const header = (m: string, pre: string, k: string, colon: string, scheme: string | undefined, v: string) =>
    isSecretKey(k) && hides(v) && (scheme !== undefined || credentialLike(v))
      ? `${pre}${k}${colon}${scheme ?? ""}${REDACTED}`
      : m;
  return s
    .replace(JSON_MEMBER, (m, q: string, k: string, colon: string, vq: string, v: string) =>
      isSecretKey(k) && hides(v) && (k.toLowerCase() !== "key" || credentialLike(v))
        ? `${q}${k}${q}${colon}${vq}${REDACTED}${vq}`
        : m,
    )
    .replace(
      AUTH_HEADER,
      (m, pre: string, k: string, colon: string, scheme: string | undefined, v: string) =>
        hides(v) ? `${pre}${k}${colon}${scheme ?? ""}${REDACTED}` : m,
    )
    .replace(HEADER, header);
}

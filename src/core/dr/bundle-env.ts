import { AppError } from "../errors.ts";
import { KOPIA_STORAGE_ENV } from "../kopia/kopia.ts";

/**
 * Variables that change how a program runs or where it connects, not a secret it reads: the loader
 * (LD_*, glibc's other unsafe ones), where programs and files are (PATH, HOME, TMPDIR, locales), docker
 * and compose (DOCKER_HOST, COMPOSE_FILE), proxies and CA bundles, ssh (SSH_ASKPASS runs a command),
 * rclone's remotes, the runtimes' own (Bun, Node, Python for compose v1, Go for kopia) and kopi-docka's
 * and kopia's own settings. A bundle that is handed over is untrusted: it never sets one of these for
 * `dr drill`'s children, and `dr export` never carries one.
 */
const UNSAFE_NAMES = new Set(
  [
    "PATH HOME SHELL ENV BASH_ENV IFS CDPATH PS4 TMPDIR TMP TEMP USER LOGNAME PWD TZ TZDIR TERM LANG",
    "LANGUAGE NODE_OPTIONS NODE_PATH SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE REQUESTS_CA_BUNDLE",
    "GCONV_PATH GETCONF_DIR HOSTALIASES LOCALDOMAIN LOCPATH NIS_PATH NLSPATH RESOLV_HOST_CONF RES_OPTIONS",
    "GODEBUG GOTRACEBACK GOMAXPROCS GOGC GOMEMLIMIT NO_COLOR CI",
  ]
    .join(" ")
    .split(" "),
);
const UNSAFE_PREFIX =
  /^(LD_|DYLD_|MALLOC_|LC_|XDG_|SYSTEMD_|DOCKER_|COMPOSE_|KOPI_DOCKA_|KOPIA_|RCLONE_|SSH_|BUN_|NODE_|PYTHON)/;
const PROXY = /_PROXY$/i;
/** kopia's own credential variables are secrets a config may well name (`webdav_password_env = "KOPIA_WEBDAV_PASSWORD"`). */
const CREDENTIALS = new Set(KOPIA_STORAGE_ENV);

/** True for a variable no bundle may set (see `UNSAFE_NAMES`). */
export function unsafeVariable(name: string): boolean {
  if (CREDENTIALS.has(name)) return false;
  return UNSAFE_NAMES.has(name) || UNSAFE_PREFIX.test(name) || PROXY.test(name);
}

/**
 * Bundle secrets given as `VAR='value'` (secrets/env, as `shellQuote` wrote them) → a record. A value
 * may span lines (a key or a JSON credential), as `. secrets/env` in recover.sh reads it; `'\''` is a
 * quote inside it. Anything else in the text is ignored.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of text.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)='((?:[^']|'\\'')*)'$/gm))
    if (m[1]) env[m[1]] = (m[2] ?? "").replaceAll("'\\''", "'");
  return env;
}

/**
 * What of a bundle's secrets/env the drill hands its children (kopia's connection, the restore child
 * and through it compose): only variables manifest.json lists and a `*_env` key of the drill's config
 * names (`named`); a listed one no key names (an alert URL's: the drill sends no alerts) is left out.
 * A variable the manifest does not list, or one no bundle may set (`unsafeVariable`), is refused
 * (exit 1 naming it): `dr export` writes neither, so the bundle was changed after it.
 */
export function drillEnv(
  text: string,
  listed: readonly string[],
  named: readonly string[],
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parseEnvFile(text))) {
    if (!listed.includes(name))
      throw new AppError(
        "check_failed",
        `the bundle's secrets/env sets ${name}, which its manifest.json does not list: refusing to pass it on (a bundle dr export made never does)`,
      );
    if (unsafeVariable(name))
      throw new AppError(
        "check_failed",
        `the bundle's secrets/env sets ${name}, which changes how programs run rather than holding a secret: refusing to pass it on`,
      );
    if (named.includes(name)) env[name] = value;
  }
  return env;
}

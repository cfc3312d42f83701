/**
 * Which names hold secrets: env keys, label keys, option keys, command-line flags. A name is split
 * into words (on `_`, `-`, `.`, spaces and camelCase) and is secret when one word is: `DB_PWD` and
 * `dbPassword` are, `KEYBOARD_LAYOUT`, `AUTHOR`, `BYPASS_CACHE` and `API_BASE_URL` are not.
 */
const SECRET_WORDS = new Set([
  "password",
  "passwd",
  "passphrase",
  "pass",
  "pwd",
  "pw",
  "secret",
  "secrets",
  "token",
  "tokens",
  "key",
  "apikey",
  "accesskey",
  "secretkey",
  "privatekey",
  // Tailscale's TS_AUTHKEY, OpenLDAP's LDAP_BINDPW / bindpw.
  "authkey",
  "bindpw",
  "credential",
  "credentials",
  "cred",
  "creds",
  "auth",
  "authorization",
  "basicauth",
  "digestauth",
  "htpasswd",
  "requirepass",
  "masterauth",
  "mnemonic",
  "salt",
  "dsn",
  "webhook",
  "sig",
]);

/** One-word names that end like a secret word: `DBPASSWORD`, `ROOTSECRET`. (`BYPASS` ends in `pass`.) */
const SECRET_ENDINGS = ["password", "passwd", "secret", "token", "apikey"];

/** Word pairs that name a secret together (`AZURE_CONNECTION_STRING` holds an `AccountKey=`). */
const SECRET_PAIRS = [["connection", "string"]];

/**
 * A name ending in one of these says where a secret is or what kind it is, not the secret:
 * `DB_PASSWORD_FILE=/run/secrets/db` (docker secrets' convention), `authSource=admin`, `AUTH_TYPE`.
 */
const ABOUT_WORDS = new Set([
  ..."file path dir directory type method mechanism mode source provider realm header policy".split(" "),
  ..."length timeout ttl expiry algorithm enabled required name user username".split(" "),
]);

/** Names that merely look like secrets: the shell's working directory. */
const NOT_SECRET = new Set(["pwd", "oldpwd"]);

/** The words of a name, lower case: `dbPassword` → db, password; `APIKey` → api, key. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** True when values under this name are secrets (an env key, label key, option key or flag name). */
export function isSecretKey(name: string): boolean {
  const words = nameWords(name);
  if (words.length === 0 || NOT_SECRET.has(words.join(""))) return false;
  if (words.length > 1 && ABOUT_WORDS.has(words[words.length - 1] ?? "")) return false;
  if (words.some((w) => SECRET_WORDS.has(w) || SECRET_ENDINGS.some((e) => w.endsWith(e)))) return true;
  return SECRET_PAIRS.some(([a, b]) => words.some((w, i) => w === a && words[i + 1] === b));
}

/** Values no one uses as a secret: keeping them spares `AUTH_ENABLED=true` a refused `--start`. */
export function isPlainValue(value: string): boolean {
  return /^(|true|false|yes|no|on|off|enabled|disabled|none|null|0|1)$/i.test(value.trim());
}

import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import type { SavedConnection } from "./backend.ts";

/**
 * Whether kopia's saved connection still is what the config asks for, beyond its location. kopia
 * copies the storage credentials (and a CA) into its own config at connect time and never looks at
 * kopi-docka's files again, so a rotated key or a renewed SAS token would otherwise never be used.
 */

/** A file the storage argv names that is larger than this is no CA or key: its name alone counts. */
const MAX_HASHED_FILE_BYTES = 1 << 20;

const SCHEME = "hmac-sha256";

/**
 * Everything one `kopia repository connect` is made of, as one text: the storage argv (region,
 * client id, CA path, …), the environment it runs with (the secrets too) and a hash of each file the
 * argv names (kopia embeds the CA's bytes). Never stored as such: only `sealDigest` of it.
 */
export function connectionInputs(argv: readonly string[], env: Record<string, string>): string {
  const files = argv.filter((a) => a.startsWith("/")).map((path) => [path, fileHash(path)]);
  const vars = Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify({ argv, env: vars, files });
}

function fileHash(path: string): string | null {
  try {
    const s = statSync(path);
    if (!s.isFile() || s.size > MAX_HASHED_FILE_BYTES) return null;
    return createHash("sha256").update(readFileSync(path)).digest("hex");
  } catch {
    // unreadable or gone: the connect says why; here it is one more value that can change
    return null;
  }
}

const mac = (salt: Buffer, inputs: string) => createHmac("sha256", salt).update(inputs).digest("hex");

/**
 * `hmac-sha256:<salt>:<mac>` of the inputs, for the marker: salted, so equal secrets on two hosts
 * (or a guessed one) cannot be matched against it; the secrets themselves stay in kopia's own 0600
 * config only.
 */
export function sealDigest(inputs: string, salt: Buffer = randomBytes(16)): string {
  return `${SCHEME}:${salt.toString("hex")}:${mac(salt, inputs)}`;
}

/** True when `sealed` (from `sealDigest`) was made of these very inputs. A malformed one never matches. */
export function digestMatches(sealed: string, inputs: string): boolean {
  const [scheme, salt, seen] = sealed.split(":");
  if (scheme !== SCHEME || !salt || !seen || !/^[0-9a-f]+$/.test(seen)) return false;
  const want = Buffer.from(mac(Buffer.from(salt, "hex"), inputs), "hex");
  const got = Buffer.from(seen, "hex");
  return got.length === want.length && timingSafeEqual(got, want);
}

/**
 * True when kopia's saved storage holds each of these secret values (kopia keeps them as plain
 * strings in its config). Needs no state of ours: it also tells a connection an older kopi-docka made,
 * before there was a digest, that still uses the credentials the config held back then.
 */
export function savedHoldsSecrets(saved: SavedConnection, secrets: readonly string[]): boolean {
  const values = new Set(Object.values(saved.storage?.config ?? {}).filter((v) => typeof v === "string"));
  return secrets.every((s) => values.has(s));
}

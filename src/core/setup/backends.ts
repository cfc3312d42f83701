import type { z } from "zod";
import { BACKEND_SCHEMAS, RepositorySchema } from "../../config/schema-repository.ts";

/**
 * setup's questions for the repository backends other than filesystem, taken from each backend's own
 * schema (src/core/repository/backends/), so a key added there is a flag here: `--<backend>-<key>`
 * (`--sftp-host`, `--s3-secret-access-key-file`).
 */
// filesystem is asked apart (its path); tailscale is sftp on a tailnet peer, set in the config.
const { filesystem: _filesystem, tailscale: _tailscale, ...SCHEMAS } = BACKEND_SCHEMAS;

export type RemoteBackend = keyof typeof SCHEMAS;
export const REMOTE_BACKENDS = Object.keys(SCHEMAS) as RemoteBackend[];
export const isRemote = (b: string): b is RemoteBackend => b in SCHEMAS;

const keysOf = (b: RemoteBackend) => Object.keys(SCHEMAS[b].shape).filter((k) => k !== "backend");
export const backendFlag = (b: string, key: string) =>
  // A key that already names its backend (`sftp_password_file`) is not named twice.
  `${b}-${(key.startsWith(`${b}_`) ? key.slice(b.length + 1) : key).replaceAll("_", "-")}`;

/** Every backend key as a string flag, for the command's argument table. */
export function backendFlagArgs(): Record<
  string,
  { type: "string"; description: string; valueHint: string }
> {
  const out: Record<string, { type: "string"; description: string; valueHint: string }> = {};
  for (const b of REMOTE_BACKENDS)
    for (const k of keysOf(b))
      out[backendFlag(b, k)] = {
        type: "string",
        description: `[repository] ${k} with --backend ${b}`,
        valueHint: "value",
      };
  return out;
}

/** A flag's text as the key's type: "22" → 22 for a port, "false" → false for tls; else the text. */
export function typed(field: z.ZodType, text: string): unknown {
  for (const v of [text, Number(text), text === "true" ? true : text === "false" ? false : text])
    if (field.safeParse(v).success) return v;
  return text;
}

/** The backend's keys given as flags (`get(flag)`), typed by its schema. */
export function backendOptions(
  b: RemoteBackend,
  get: (flag: string) => string | undefined,
): Record<string, unknown> {
  const shape = SCHEMAS[b].shape as Record<string, z.ZodType>;
  const out: Record<string, unknown> = {};
  for (const k of keysOf(b)) {
    const v = get(backendFlag(b, k));
    if (v !== undefined && shape[k]) out[k] = typed(shape[k], v);
  }
  return out;
}

/** What the backend's schema still lacks or refuses, as the flags that would fix it. */
export function backendProblems(b: RemoteBackend, options: Record<string, unknown>): string[] {
  const r = RepositorySchema.safeParse({ backend: b, ...options });
  if (r.success) return [];
  return r.error.issues.map((i) => {
    const key = String(i.path[0] ?? "");
    return key ? `--${backendFlag(b, key)} (${i.message})` : i.message;
  });
}

/** One wizard question: a key of the backend's schema, its flag, and what it takes. */
export interface BackendField {
  key: string;
  flag: string;
  /** The schema's default, as text ("22"); "" when there is none. */
  initial: string;
  /** Empty is an answer (the key is left out; a key with a default gets its default). */
  optional: boolean;
  /** A secret: the path of a 0600 file, or the name of an environment variable; never the secret. */
  secret?: "file" | "env";
  /** undefined when `text` fits the key; else what is wrong. */
  check: (text: string) => string | undefined;
  value: (text: string) => unknown;
}

/** The backend's keys as questions, in schema order: the same list the flags are made from. */
export function backendFields(b: RemoteBackend): BackendField[] {
  const shape = SCHEMAS[b].shape as Record<string, z.ZodType>;
  return keysOf(b).map((key) => {
    const field = shape[key] as z.ZodType;
    const empty = field.safeParse(undefined);
    const secret = /_file$/.test(key) ? "file" : /_env$/.test(key) ? "env" : undefined;
    return {
      key,
      flag: backendFlag(b, key),
      initial: empty.success && empty.data !== undefined ? String(empty.data) : "",
      optional: empty.success && empty.data === undefined,
      secret,
      check: (text) => {
        if (!text && empty.success) return undefined;
        const r = field.safeParse(typed(field, text));
        return r.success ? undefined : (r.error.issues[0]?.message ?? "not valid here");
      },
      value: (text) => (text ? typed(field, text) : undefined),
    };
  });
}

import { z } from "zod";

/**
 * Zod building blocks the backend schemas share. A secret is never a config value: it comes from a
 * `<name>_file` (mode 0600, checked when read) or from the environment variable `<name>_env` names.
 */
export const absolutePath = z.string().refine((p) => p.startsWith("/"), "must be an absolute path");
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name");

/** `<name>_file` and `<name>_env`, both optional; `resolveSecret` demands one where one is needed. */
export function secretKeys<N extends string>(name: N) {
  return {
    [`${name}_file`]: absolutePath.optional(),
    [`${name}_env`]: envName.optional(),
  } as Record<`${N}_file`, z.ZodOptional<typeof absolutePath>> &
    Record<`${N}_env`, z.ZodOptional<typeof envName>>;
}

/** Bytes per second; 0 means no limit (kopia's throttle on the storage connection). */
export const speed = z.number().int().min(0).default(0);

export const nonEmpty = z.string().trim().min(1);
export const prefix = z
  .string()
  .refine((p) => !p.startsWith("/"), "a key prefix, not an absolute path")
  .default("");

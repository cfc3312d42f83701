/**
 * Type guards for values whose shape is only known at run time: parsed JSON, YAML or TOML, flag
 * values checked against a fixed list. Imports nothing, so config and ui use them too.
 */

/** A plain object (not an array, not null). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Whether `v` is one of `list` (a fixed list such as `COMPRESSIONS`). */
export function isOneOf<T extends string>(list: readonly T[], v: unknown): v is T {
  return list.some((x) => x === v);
}

/** `v` when it is one of `list`, otherwise undefined. */
export function oneOf<T extends string>(list: readonly T[], v: unknown): T | undefined {
  return isOneOf(list, v) ? v : undefined;
}

/** `v` when it is a plain object, else an empty one: for reading untrusted JSON field by field. */
export const recordOr = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});

/** The strings of `v` when it is an array, else none. */
export const stringsIn = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];

/** `v` when it is a string, else "". */
export const stringOr = (v: unknown): string => (typeof v === "string" ? v : "");

import { isRecord } from "../guards.ts";
import { DOCKER_NAME } from "../names-rules.ts";

// One reading of a compose `volumes:` entry for every judge of the recipe's compose files (what a
// `compose up` mounts from this host, what a copy would share with the original): two readings
// drifted apart once (`${DATA:-./data}:/data` cut at the variable's own `:-`).

const obj = (v: unknown): Record<string, unknown> => (isRecord(v) ? v : {});

/**
 * A `volumes:` entry's host source: short syntax `SRC:DST[:MODE]` whose SRC is no volume name, or a
 * long one that is not a volume, tmpfs, image or pipe. Anything that is not plainly a volume name is
 * taken as a path (compose reads `.`, `/` and `~` as one, a variable may become one).
 */
export function bindOf(v: unknown): { source: string; target?: string } | undefined {
  if (typeof v === "string") {
    const at = sourceEnd(v);
    if (at < 0) return undefined; // an anonymous volume: only a path in the container
    const source = v.slice(0, at);
    return DOCKER_NAME.test(source) ? undefined : { source, target: v.slice(at + 1).split(":")[0] ?? "" };
  }
  const m = obj(v);
  if (
    typeof m.source !== "string" ||
    ["volume", "tmpfs", "image", "npipe", "cluster"].includes(String(m.type))
  )
    return undefined;
  return { source: m.source, ...(typeof m.target === "string" ? { target: m.target } : {}) };
}

/**
 * Where the short syntax's source ends: at the first `:` outside a `${…}`, whose `:-` and `:?` are
 * the variable's own (`${DATA:-./data}:/data`); `$$` is a literal `$`. -1 when there is none.
 */
function sourceEnd(v: string): number {
  let depth = 0;
  for (let i = 0; i < v.length; i++) {
    if (v[i] === "$" && (v[i + 1] === "$" || v[i + 1] === "{")) {
      if (v[i + 1] === "{") depth++;
      i++;
    } else if (v[i] === "}" && depth > 0) depth--;
    else if (v[i] === ":" && depth === 0) return i;
  }
  return -1;
}

import type { z } from "zod";
import { AppError } from "../errors.ts";
import type { Runner, RunOptions, RunResult } from "../process/runner.ts";

/** Runs `docker <args>`: the client's one way to the runner. */
export type Exec = (args: readonly string[], options?: RunOptions) => Promise<RunResult>;

export function dockerExec(runner: Runner): Exec {
  return (args, options) => runner.run(["docker", ...args], options);
}

/** Beyond this many names one argv is split (ARG_MAX is far away, but stay polite). */
export const ARGV_CHUNK = 1000;
const INSPECT_TIMEOUT_MS = 120_000;
/** How docker reports a name that does not exist (container, volume, network, image; old and new wording). */
const MISSING = /no such (container|object|volume|network|image)|not found/i;

/** True when every stderr line of a failed docker call only says that some name does not exist. */
export function onlyMissing(stderr: string): boolean {
  return stderr.split("\n").every((l) => !l.trim() || MISSING.test(l));
}

/**
 * `docker <cmd> a b c …` in one process per `ARGV_CHUNK` names, parsed with `schema`. Names that do not
 * exist (or vanished since they were listed) are simply absent from the answer: docker exits 1 for them
 * and still prints the rest. Any other failure, or output of another shape, throws.
 */
export async function inspectMany<S extends z.ZodType>(
  exec: Exec,
  cmd: readonly string[],
  names: readonly string[],
  schema: S,
): Promise<z.output<S>[]> {
  const unique = [...new Set(names)];
  const out: z.output<S>[] = [];
  for (let i = 0; i < unique.length; i += ARGV_CHUNK) {
    const r = await exec([...cmd, ...unique.slice(i, i + ARGV_CHUNK)], {
      check: false,
      timeoutMs: INSPECT_TIMEOUT_MS,
    });
    const what = `\`docker ${cmd.join(" ")}\``;
    if (r.exitCode !== 0 && (r.stdout.trim() === "" || !onlyMissing(r.stderr))) {
      throw new AppError("process_failed", `${what} failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
    }
    out.push(...parseJson(schema.array(), r.stdout.trim() || "[]", what));
  }
  return out;
}

/** Parses docker's JSON output; a shape docker never printed before is a clear error, not a crash later. */
export function parseJson<S extends z.ZodType>(schema: S, text: string, what: string): z.output<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new AppError("process_failed", `${what} printed something that is not JSON: ${text.slice(0, 200)}`);
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new AppError(
    "process_failed",
    `${what} printed an unexpected shape (${issue?.path.join(".") || "root"}: ${issue?.message})`,
  );
}

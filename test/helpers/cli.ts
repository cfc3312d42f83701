import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { createBunRunner, type RunResult } from "../../src/core/process/runner.ts";

const root = join(import.meta.dir, "..", "..");
/** The compiled binary (scripts/test.sh builds it right before the tests). */
export const BINARY = join(root, "dist", "kopi-docka-linux-x64");

/** Newest mtime under src/: a binary older than that would test yesterday's code. */
function newestSourceMtime(dir = join(root, "src")): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSourceMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const binaryIsFresh = existsSync(BINARY) && statSync(BINARY).mtimeMs >= newestSourceMtime();

/**
 * The compiled binary when it is at least as new as every source file, else the source entry point.
 * KOPI_DOCKA_TEST_SOURCE=1 (in the test process, or in `env`) forces running from source. Test files
 * must not set it in process.env: bun runs all files in one process, so it would leak into the others.
 */
export function cliArgv(env: Record<string, string | undefined> = {}): string[] {
  const fromSource = (env.KOPI_DOCKA_TEST_SOURCE ?? process.env.KOPI_DOCKA_TEST_SOURCE) === "1";
  if (!fromSource && binaryIsFresh) return [BINARY];
  return [process.execPath, join(root, "src", "cli.ts")];
}

const runner = createBunRunner();

/** Runs kopi-docka like a script would: no TTY, CI set, plain output. Never throws on exit status. */
export function runCli(
  args: string[],
  opts: {
    env?: Record<string, string | undefined>;
    stdin?: string;
    timeoutMs?: number;
    /** argv that runs the command (e.g. in a private mount namespace); none by default. */
    wrap?: string[];
  } = {},
): Promise<RunResult> {
  return runner.run([...(opts.wrap ?? []), ...cliArgv(opts.env), ...args], {
    check: false,
    env: { NO_COLOR: "1", CI: "true", TZ: "Etc/UTC", KOPI_DOCKA_CONFIG: undefined, ...opts.env },
    stdin: opts.stdin,
    timeoutMs: opts.timeoutMs ?? 300_000,
  });
}

/** `runCli` on one config, and its `--json` output parsed (a non-zero exit throws, naming stderr). */
export function cliWith(config: string) {
  const cli = (...args: string[]) => runCli([...args, "--config", config]);
  const json = async (...args: string[]) => {
    const r = await cli(...args, "--json");
    if (r.exitCode !== 0) throw new Error(`${args.join(" ")}: exit ${r.exitCode}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  return { cli, json };
}

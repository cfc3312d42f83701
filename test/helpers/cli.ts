import { existsSync } from "node:fs";
import { join } from "node:path";
import { createBunRunner, type RunResult } from "../../src/core/process/runner.ts";

const root = join(import.meta.dir, "..", "..");
/** The compiled binary when built (scripts/test.sh builds first), else the source entry point. */
export const BINARY = join(root, "dist", "kopi-docka-linux-x64");

/** KOPI_DOCKA_TEST_SOURCE=1 (in the test process, or in `env`) forces running from source. */
export function cliArgv(env: Record<string, string | undefined> = {}): string[] {
  const fromSource = (env.KOPI_DOCKA_TEST_SOURCE ?? process.env.KOPI_DOCKA_TEST_SOURCE) === "1";
  if (!fromSource && existsSync(BINARY)) return [BINARY];
  return [process.execPath, join(root, "src", "cli.ts")];
}

const runner = createBunRunner();

/** Runs kopi-docka like a script would: no TTY, CI set, plain output. Never throws on exit status. */
export function runCli(
  args: string[],
  opts: { env?: Record<string, string | undefined>; stdin?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return runner.run([...cliArgv(opts.env), ...args], {
    check: false,
    env: { NO_COLOR: "1", CI: "true", TZ: "Etc/UTC", KOPI_DOCKA_CONFIG: undefined, ...opts.env },
    stdin: opts.stdin,
    timeoutMs: opts.timeoutMs ?? 300_000,
  });
}

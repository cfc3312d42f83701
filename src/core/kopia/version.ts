import type { Runner } from "../process/runner.ts";
import { parseKopiaVersion } from "./parse.ts";

/**
 * A kopia's version ("0.23.1"), or undefined when it is missing or says nothing parseable. A bare
 * `kopia --version`: it needs no config, no repository and no password, so `doctor` and `version` can
 * ask before (or without) a config that loads. `command` is "kopia" (PATH) or an absolute path.
 */
export async function kopiaVersionOf(
  runner: Runner,
  command: string,
  timeoutMs = 15_000,
): Promise<string | undefined> {
  const r = await runner.run([command, "--version"], { check: false, timeoutMs }).catch(() => undefined);
  return r?.exitCode === 0 ? parseKopiaVersion(r.stdout) : undefined;
}

/** The version of the kopia on PATH. */
export function installedKopiaVersion(runner: Runner, timeoutMs = 15_000): Promise<string | undefined> {
  return kopiaVersionOf(runner, "kopia", timeoutMs);
}

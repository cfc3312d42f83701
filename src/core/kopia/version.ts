import type { Runner } from "../process/runner.ts";
import { parseKopiaVersion } from "./parse.ts";

/**
 * The installed kopia's version ("0.23.1"), or undefined when kopia is missing or says nothing
 * parseable. A bare `kopia --version`: it needs no config, no repository and no password, so `doctor`
 * and `version` can ask before (or without) a config that loads.
 */
export async function installedKopiaVersion(runner: Runner, timeoutMs = 15_000): Promise<string | undefined> {
  const r = await runner.run(["kopia", "--version"], { check: false, timeoutMs }).catch(() => undefined);
  return r?.exitCode === 0 ? parseKopiaVersion(r.stdout) : undefined;
}

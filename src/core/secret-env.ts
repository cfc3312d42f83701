import { readFileSync } from "node:fs";
import { secretReferences } from "./dr/gather.ts";
import { alertReferences } from "./dr/gather-alerts.ts";
import { KOPIA_SECRET_ENV } from "./kopia/kopia.ts";

/**
 * Every environment variable that holds a secret for this config: `KOPIA_SECRET_ENV`, each `*_env` key's
 * variable (the repository's, each replica's) and each `${VAR}` an alert URL names (`ping_url`,
 * `notify[].url`, the text of a readable `url_file`): the names the DR bundle carries. What the docker
 * CLI and compose run with lacks them all: compose fills `${VAR}` in a compose file from its own
 * environment before `.env`, and a restored compose file is the snapshot's, untrusted; so is a
 * restored container's env (a bare `NAME` in `--env-file` takes our value). Never throws: a
 * `url_file` it cannot read names nothing here.
 */
export function secretEnvNames(
  config?: unknown,
  readText = (path: string) => readFileSync(path, "utf8"),
): string[] {
  const names = new Set(KOPIA_SECRET_ENV);
  if (config !== undefined) {
    for (const [, variable] of secretReferences(config).env) names.add(variable);
    for (const [, variable] of alertReferences(config, readText).env) names.add(variable);
  }
  return [...names].sort();
}
